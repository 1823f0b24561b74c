//! A customer's field clocks as one short string: the most common clock, then `;field=clock` for
//! each field whose clock differs, and `;field=` for a merged field never written.
//!
//! A capture stamps every field with one clock, so the string is usually one timestamp and two
//! gaps (about 70 bytes) where the JSON map of fifteen clocks took about 900: the larger half of
//! every stored customer on the server, of the terminal's row, and of each pulled page.

use crate::customer::MERGED_FIELDS;
use crate::hlc::Hlc;
use crate::merge::{FieldMap, Stamped};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;

/// A record's clock per field.
pub type FieldClocks = BTreeMap<String, Hlc>;

/// The text is not a field-clocks string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed field clocks: {0:?}")]
pub struct ClockFormatError(String);

/// The compact form of `clocks`. Lossless for any field names without `;` or `=`: a name
/// outside [`MERGED_FIELDS`] is always written out, since decoding fills in only merged fields.
pub fn encode(clocks: &FieldClocks) -> String {
    let mut counts: Vec<(Hlc, usize)> = Vec::with_capacity(4);
    for clock in clocks.values() {
        match counts.iter_mut().find(|(c, _)| c == clock) {
            Some((_, n)) => *n += 1,
            None => counts.push((*clock, 1)),
        }
    }
    // Ties go to the later clock, so the form does not depend on field order.
    let common = counts.into_iter().max_by_key(|&(clock, n)| (n, clock)).map_or(Hlc::ZERO, |(clock, _)| clock);
    let mut out = String::with_capacity(48);
    write!(out, "{common}").expect("writing to a String");
    for (field, clock) in clocks {
        if *clock != common || !MERGED_FIELDS.contains(&field.as_str()) {
            write!(out, ";{field}={clock}").expect("writing to a String");
        }
    }
    for field in MERGED_FIELDS.iter().filter(|f| !clocks.contains_key(**f)) {
        write!(out, ";{field}=").expect("writing to a String");
    }
    out
}

/// Reads [`encode`]'s form back.
pub fn decode(text: &str) -> Result<FieldClocks, ClockFormatError> {
    let err = || ClockFormatError(text.to_owned());
    let mut parts = text.split(';');
    let common: Hlc = parts.next().ok_or_else(err)?.parse().map_err(|_| err())?;
    let mut clocks: FieldClocks = MERGED_FIELDS.iter().map(|f| ((*f).to_owned(), common)).collect();
    for part in parts {
        let (field, clock) = part.split_once('=').ok_or_else(err)?;
        if field.is_empty() {
            return Err(err());
        }
        if clock.is_empty() {
            clocks.remove(field);
        } else {
            clocks.insert(field.to_owned(), clock.parse().map_err(|_| err())?);
        }
    }
    Ok(clocks)
}

/// A customer's [`FieldMap`], whole or partial, as its values by field and their clocks in the
/// compact form (about a third of the map's JSON): what the server's merge log keeps of each
/// record it folds into a survivor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompactFields {
    pub values: BTreeMap<String, Value>,
    #[serde(with = "compact")]
    pub clocks: FieldClocks,
}

impl From<&FieldMap> for CompactFields {
    fn from(fields: &FieldMap) -> Self {
        CompactFields {
            values: fields.iter().map(|(name, s)| (name.clone(), s.value.clone())).collect(),
            clocks: fields.iter().map(|(name, s)| (name.clone(), s.clock)).collect(),
        }
    }
}

impl From<CompactFields> for FieldMap {
    fn from(compact: CompactFields) -> Self {
        let clocks = compact.clocks;
        compact
            .values
            .into_iter()
            .map(|(name, value)| {
                let clock = clocks.get(&name).copied().unwrap_or(Hlc::ZERO);
                (name, Stamped { value, clock })
            })
            .collect()
    }
}

/// Serde for [`crate::Customer::clocks`]: writes the compact string; reads it, or the JSON map of
/// field to clock that records written before it carry.
pub(crate) mod compact {
    use super::{decode, encode, FieldClocks};
    use crate::hlc::Hlc;
    use serde::de::{self, MapAccess, Visitor};
    use serde::{Deserializer, Serializer};
    use std::fmt;

    pub fn serialize<S: Serializer>(clocks: &FieldClocks, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&encode(clocks))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<FieldClocks, D::Error> {
        deserializer.deserialize_any(ClocksVisitor)
    }

    struct ClocksVisitor;

    impl<'de> Visitor<'de> for ClocksVisitor {
        type Value = FieldClocks;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("field clocks: a compact string or a map of field to clock")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<FieldClocks, E> {
            decode(text).map_err(E::custom)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FieldClocks, A::Error> {
            let mut clocks = FieldClocks::new();
            while let Some((field, clock)) = map.next_entry::<String, Hlc>()? {
                clocks.insert(field, clock);
            }
            Ok(clocks)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Customer;
    use uuid::Uuid;

    const A: Hlc = Hlc { wall_ms: 1_732_000_000_000, counter: 0, node: 1 };
    const B: Hlc = Hlc { wall_ms: 1_732_000_000_500, counter: 3, node: 2 };

    fn all(clock: Hlc) -> FieldClocks {
        MERGED_FIELDS.iter().map(|f| ((*f).to_owned(), clock)).collect()
    }

    #[test]
    fn one_clock_for_every_field_is_one_timestamp() {
        assert_eq!(encode(&all(A)), A.to_string());
        assert_eq!(decode(&encode(&all(A))).unwrap(), all(A));
    }

    #[test]
    fn differing_missing_and_unknown_fields_round_trip() {
        let mut clocks = all(A);
        clocks.insert("city".into(), B);
        clocks.remove("notes");
        clocks.insert("loyalty_tier".into(), B);
        clocks.insert("nickname".into(), A);
        let text = encode(&clocks);
        assert_eq!(text, format!("{A};city={B};loyalty_tier={B};nickname={A};notes="));
        assert_eq!(decode(&text).unwrap(), clocks);
        assert_eq!(decode(&encode(&FieldClocks::new())).unwrap(), FieldClocks::new());
    }

    #[test]
    fn the_most_common_clock_leads_and_ties_go_to_the_later_one() {
        let mut clocks = all(B);
        for f in &MERGED_FIELDS[..10] {
            clocks.insert((*f).to_owned(), A);
        }
        assert!(encode(&clocks).starts_with(&format!("{A};")));
        let two: FieldClocks = [("city".to_owned(), A), ("notes".to_owned(), B)].into();
        assert!(encode(&two).starts_with(&format!("{B};")));
    }

    #[test]
    fn malformed_text_is_refused() {
        for bad in ["", "nonsense", &format!("{A};city"), &format!("{A};=x"), &format!("{A};city=soon")] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn whole_and_partial_field_maps_round_trip_through_the_compact_form() {
        let mut customer = Customer::blank(Uuid::nil(), Uuid::nil(), chrono::DateTime::UNIX_EPOCH);
        customer.first_name = "Rosa".into();
        customer.clocks = all(A);
        customer.clocks.insert("first_name".into(), B);
        let whole = customer.to_fields();
        let partial: FieldMap = whole
            .iter()
            .filter(|(f, _)| *f == "city" || *f == "first_name")
            .map(|(f, s)| (f.clone(), s.clone()))
            .collect();
        let compact_json = |fields: &FieldMap| serde_json::to_string(&CompactFields::from(fields)).unwrap();
        for fields in [&whole, &partial] {
            let back: CompactFields = serde_json::from_str(&compact_json(fields)).unwrap();
            assert_eq!(&FieldMap::from(back), fields);
        }
        assert!(compact_json(&whole).len() * 2 < serde_json::to_string(&whole).unwrap().len());
    }

    #[test]
    fn customers_serialise_the_compact_form_and_read_the_map_form_too() {
        let mut customer = Customer::blank(Uuid::nil(), Uuid::nil(), chrono::DateTime::UNIX_EPOCH);
        customer.clocks = all(A);
        customer.clocks.insert("city".into(), B);
        let json = serde_json::to_value(&customer).unwrap();
        assert_eq!(json["clocks"], format!("{A};city={B}"));
        assert_eq!(serde_json::from_value::<Customer>(json.clone()).unwrap(), customer);

        let mut old = json;
        old["clocks"] = serde_json::to_value(&customer.clocks).unwrap();
        assert!(old["clocks"].is_object());
        assert_eq!(serde_json::from_value::<Customer>(old).unwrap(), customer);
    }
}
