//! The customer: its fields, the raw input forms and seed 2's sales-data field names, and its
//! conversion to and from the per-field, clock-stamped map that sync merges.

use crate::hlc::Hlc;
use crate::merge::{FieldMap, FieldTypeError, Stamped};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Where a customer record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub enum Source {
    #[default]
    #[serde(rename = "POS", alias = "pos", alias = "Pos", alias = "sale", alias = "Sale")]
    Pos,
    #[serde(rename = "Manual", alias = "manual")]
    Manual,
    #[serde(rename = "Lead", alias = "lead")]
    Lead,
    #[serde(rename = "Booking", alias = "booking")]
    Booking,
    #[serde(rename = "AreaCustomer", alias = "area_customer", alias = "area")]
    AreaCustomer,
    #[serde(rename = "Import", alias = "import")]
    Import,
    #[serde(rename = "Webhook", alias = "webhook")]
    Webhook,
}

impl Source {
    pub const ALL: [Source; 7] =
        [Self::Pos, Self::Manual, Self::Lead, Self::Booking, Self::AreaCustomer, Self::Import, Self::Webhook];

    /// The wire / storage name (`"POS"`, `"Manual"`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pos => "POS",
            Self::Manual => "Manual",
            Self::Lead => "Lead",
            Self::Booking => "Booking",
            Self::AreaCustomer => "AreaCustomer",
            Self::Import => "Import",
            Self::Webhook => "Webhook",
        }
    }

    /// Parses the wire name or a common lower-case alias.
    pub fn parse(s: &str) -> Option<Source> {
        serde_json::from_value(Value::String(s.trim().to_owned())).ok()
    }
}

/// A stored customer. Key fields (`phone`, `email`, `identification`, `passport_number`) hold
/// their normalised form, which is also their match key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub branch_id: Option<Uuid>,
    pub first_name: String,
    pub surname: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub identification: Option<String>,
    pub passport_number: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub notes: Option<String>,
    pub source: Source,
    pub service_type: Option<String>,
    pub is_active: bool,
    pub last_activity: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set on a tombstone: the customer this one was merged into.
    pub merged_into: Option<Uuid>,
    /// The clock of the last write of each merged field (serialised in the compact form of
    /// [`crate::field_clocks`]).
    #[serde(default, with = "crate::field_clocks::compact")]
    pub clocks: BTreeMap<String, Hlc>,
}

/// The fields that sync merges field by field (last writer wins under the HLC): the content a
/// person or another system supplies ([`CONTENT_FIELDS`]), then the activity state.
pub const MERGED_FIELDS: [&str; 15] = [
    "branch_id",
    "first_name",
    "surname",
    "phone",
    "email",
    "identification",
    "passport_number",
    "date_of_birth",
    "address",
    "city",
    "notes",
    "source",
    "service_type",
    "is_active",
    "last_activity",
];

/// The merged fields a person or another system supplies: all but the activity state.
pub const CONTENT_FIELDS: &[&str] = MERGED_FIELDS.split_at(13).0;

impl Customer {
    /// An active customer with no data yet, created `at`; the caller sets its fields.
    pub fn blank(id: Uuid, organization_id: Uuid, at: DateTime<Utc>) -> Customer {
        Customer {
            id,
            organization_id,
            branch_id: None,
            first_name: String::new(),
            surname: String::new(),
            phone: None,
            email: None,
            identification: None,
            passport_number: None,
            date_of_birth: None,
            address: None,
            city: None,
            notes: None,
            source: Source::default(),
            service_type: None,
            is_active: true,
            last_activity: None,
            created_at: at,
            updated_at: at,
            merged_into: None,
            clocks: BTreeMap::new(),
        }
    }

    /// `first_name surname`, seed 1's `full_name`.
    pub fn full_name(&self) -> String {
        match (self.first_name.is_empty(), self.surname.is_empty()) {
            (false, false) => format!("{} {}", self.first_name, self.surname),
            (false, true) => self.first_name.clone(),
            _ => self.surname.clone(),
        }
    }

    /// The merged fields with their clocks (as [`crate::merge::record_fields`] reads them from the serde
    /// form, one field at a time: the server does this for every change it merges, and
    /// serialising the whole record, clocks included, cost more than the rest of the merge).
    pub fn to_fields(&self) -> FieldMap {
        MERGED_FIELDS
            .iter()
            .map(|&name| {
                let value = self.field_value(name).unwrap_or(Value::Null);
                let clock = self.clocks.get(name).copied().unwrap_or(Hlc::ZERO);
                (name.to_owned(), Stamped { value, clock })
            })
            .collect()
    }

    /// Replaces the merged fields named in `fields` (values and clocks). Unknown field names
    /// and values of the wrong type are refused as a whole, leaving `self` unchanged (as
    /// [`crate::merge::with_fields`] does, one field at a time).
    pub fn set_fields(&mut self, fields: &FieldMap) -> Result<(), FieldTypeError> {
        let mut updated = self.clone();
        for (name, stamped) in fields {
            updated.set_field(name, &stamped.value)?;
        }
        updated.clocks.extend(fields.iter().map(|(name, stamped)| (name.clone(), stamped.clock)));
        *self = updated;
        Ok(())
    }

    /// One merged field's value in the record's serde form; `None` for another name.
    fn field_value(&self, name: &str) -> Option<Value> {
        fn json<T: Serialize>(value: &T) -> Value {
            serde_json::to_value(value).expect("fields serialise")
        }
        Some(match name {
            "branch_id" => json(&self.branch_id),
            "first_name" => json(&self.first_name),
            "surname" => json(&self.surname),
            "phone" => json(&self.phone),
            "email" => json(&self.email),
            "identification" => json(&self.identification),
            "passport_number" => json(&self.passport_number),
            "date_of_birth" => json(&self.date_of_birth),
            "address" => json(&self.address),
            "city" => json(&self.city),
            "notes" => json(&self.notes),
            "source" => json(&self.source),
            "service_type" => json(&self.service_type),
            "is_active" => json(&self.is_active),
            "last_activity" => json(&self.last_activity),
            _ => return None,
        })
    }

    /// Sets one merged field from its serde form.
    fn set_field(&mut self, name: &str, value: &Value) -> Result<(), FieldTypeError> {
        fn read<T: serde::de::DeserializeOwned>(value: &Value) -> Result<T, FieldTypeError> {
            T::deserialize(value).map_err(|e| FieldTypeError(e.to_string()))
        }
        match name {
            "branch_id" => self.branch_id = read(value)?,
            "first_name" => self.first_name = read(value)?,
            "surname" => self.surname = read(value)?,
            "phone" => self.phone = read(value)?,
            "email" => self.email = read(value)?,
            "identification" => self.identification = read(value)?,
            "passport_number" => self.passport_number = read(value)?,
            "date_of_birth" => self.date_of_birth = read(value)?,
            "address" => self.address = read(value)?,
            "city" => self.city = read(value)?,
            "notes" => self.notes = read(value)?,
            "source" => self.source = read(value)?,
            "service_type" => self.service_type = read(value)?,
            "is_active" => self.is_active = read(value)?,
            "last_activity" => self.last_activity = read(value)?,
            _ => return Err(FieldTypeError(format!("unknown field {name}"))),
        }
        Ok(())
    }

    /// The match keys of this customer.
    pub fn keys(&self) -> crate::keys::MatchKeys {
        crate::keys::MatchKeys {
            phone: self.phone.clone(),
            email: self.email.clone(),
            passport: self.passport_number.clone(),
            identification: self.identification.clone(),
        }
    }
}

/// Raw customer data as typed by a person or sent by another system, before validation. Seed 1
/// sends `full_name`; seed 2 sends `name`/`surname` (also accepted as `first_name`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomerInput {
    #[serde(alias = "name")]
    pub first_name: Option<String>,
    pub surname: Option<String>,
    pub full_name: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub identification: Option<String>,
    pub passport_number: Option<String>,
    pub date_of_birth: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub notes: Option<String>,
    pub source: Option<String>,
    pub service_type: Option<String>,
    /// Seed 1 sends it as `branch`.
    #[serde(alias = "branch")]
    pub branch_id: Option<Uuid>,
}

/// A stored customer as the raw form it would be edited in (what validation reads back).
impl From<&Customer> for CustomerInput {
    fn from(c: &Customer) -> Self {
        CustomerInput {
            first_name: Some(c.first_name.clone()),
            surname: Some(c.surname.clone()),
            full_name: None,
            phone: c.phone.clone(),
            email: c.email.clone(),
            identification: c.identification.clone(),
            passport_number: c.passport_number.clone(),
            date_of_birth: c.date_of_birth.map(|d| d.to_string()),
            address: c.address.clone(),
            city: c.city.clone(),
            notes: c.notes.clone(),
            source: Some(c.source.as_str().to_owned()),
            service_type: c.service_type.clone(),
            branch_id: c.branch_id,
        }
    }
}

/// Seed 2's sales-data field names, as a checkout sends them to find-or-create.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SalesCustomerData {
    pub customer_name: Option<String>,
    pub customer_surname: Option<String>,
    pub customer_phone: Option<String>,
    pub customer_email: Option<String>,
    pub customer_identification: Option<String>,
    pub customer_passport: Option<String>,
}

impl From<SalesCustomerData> for CustomerInput {
    fn from(s: SalesCustomerData) -> Self {
        CustomerInput {
            first_name: s.customer_name,
            surname: s.customer_surname,
            phone: s.customer_phone,
            email: s.customer_email,
            identification: s.customer_identification,
            passport_number: s.customer_passport,
            source: Some(Source::Pos.as_str().to_owned()),
            ..Default::default()
        }
    }
}

/// Splits seed 1's `full_name` into first name and surname, the Venezuelan way: two words are
/// name + surname, three are one name + two surnames, four or more end in two surnames.
pub fn split_full_name(full: &str) -> (String, String) {
    let words: Vec<&str> = full.split_whitespace().collect();
    let given = match words.len() {
        0 => 0,
        1 => 1,
        2 | 3 => 1,
        n => n - 2,
    };
    (words[..given].join(" "), words[given..].join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_fields_are_the_merged_fields_but_the_activity_state() {
        let activity = ["is_active", "last_activity"];
        let expected: Vec<&str> = MERGED_FIELDS.iter().copied().filter(|f| !activity.contains(f)).collect();
        assert_eq!(CONTENT_FIELDS, expected.as_slice());
    }

    #[test]
    fn a_stored_customer_reads_back_as_its_own_valid_input() {
        let mut c = Customer::blank(Uuid::from_u128(1), Uuid::from_u128(2), DateTime::<Utc>::UNIX_EPOCH);
        c.first_name = "Ana".into();
        c.surname = "Gil".into();
        c.phone = Some("+584141234567".into());
        c.identification = Some("V-12345678".into());
        c.date_of_birth = NaiveDate::from_ymd_opt(1990, 5, 17);
        c.branch_id = Some(Uuid::from_u128(3));
        let input = CustomerInput::from(&c);
        assert_eq!(
            (input.date_of_birth.as_deref(), input.source.as_deref()),
            (Some("1990-05-17"), Some(c.source.as_str()))
        );
        let valid = crate::validate_customer(&input, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap()).unwrap();
        assert_eq!(
            (valid.first_name, valid.phone, valid.identification, valid.date_of_birth, valid.branch_id),
            (c.first_name, c.phone, c.identification, c.date_of_birth, c.branch_id)
        );
    }

    #[test]
    fn fields_read_and_write_as_the_records_serde_form_does() {
        use crate::merge::{record_fields, with_fields};
        let mut c = Customer::blank(Uuid::from_u128(1), Uuid::from_u128(2), DateTime::<Utc>::UNIX_EPOCH);
        c.first_name = "Ana".into();
        c.phone = Some("+584141234567".into());
        c.date_of_birth = NaiveDate::from_ymd_opt(1990, 5, 17);
        c.branch_id = Some(Uuid::from_u128(3));
        c.last_activity = DateTime::from_timestamp_millis(1_700_000_000_123);
        c.source = Source::Lead;
        c.clocks.insert("phone".into(), Hlc { wall_ms: 5, counter: 1, node: 7 });
        assert_eq!(c.to_fields(), record_fields(&c, &MERGED_FIELDS, &c.clocks));

        let mut other = Customer::blank(Uuid::from_u128(9), Uuid::from_u128(2), DateTime::<Utc>::UNIX_EPOCH);
        let generic = with_fields(&other, &MERGED_FIELDS, &c.to_fields()).unwrap();
        other.set_fields(&c.to_fields()).unwrap();
        assert_eq!(Customer { clocks: generic.clocks.clone(), ..other.clone() }, generic);
        assert_eq!(other.to_fields(), c.to_fields());

        let before = other.clone();
        let mut bad = c.to_fields();
        bad.insert("is_active".into(), Stamped { value: Value::from("yes"), clock: Hlc::ZERO });
        assert!(other.set_fields(&bad).is_err() && with_fields(&other, &MERGED_FIELDS, &bad).is_err());
        bad.remove("is_active");
        bad.insert("id".into(), Stamped { value: Value::from("x"), clock: Hlc::ZERO });
        assert_eq!(other.set_fields(&bad).unwrap_err(), with_fields(&other, &MERGED_FIELDS, &bad).unwrap_err());
        assert_eq!(other, before, "a refused change leaves the record as it was");
    }

    #[test]
    fn full_name_splits_and_rejoins() {
        assert_eq!(split_full_name("Ali Khan"), ("Ali".into(), "Khan".into()));
        assert_eq!(split_full_name("Juan Pérez González"), ("Juan".into(), "Pérez González".into()));
        assert_eq!(split_full_name(" María  José Pérez  Rojas "), ("María José".into(), "Pérez Rojas".into()));
        assert_eq!(split_full_name("Cher"), ("Cher".into(), String::new()));
        assert_eq!(split_full_name(""), (String::new(), String::new()));
    }

    #[test]
    fn source_parses_seed_names_and_aliases() {
        assert_eq!(Source::parse("Lead"), Some(Source::Lead));
        assert_eq!(Source::parse("manual"), Some(Source::Manual));
        assert_eq!(Source::parse("POS"), Some(Source::Pos));
        assert_eq!(Source::parse("nonsense"), None);
        for s in Source::ALL {
            assert_eq!(Source::parse(s.as_str()), Some(s));
        }
    }
}
