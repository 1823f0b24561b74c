//! Conversions between SQLite rows and domain types (text UUIDs, RFC 3339 timestamps, JSON).

use crate::{Result, StoreError};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use pos_core::{field_clocks, Customer, Source};
use rusqlite::types::Type;
use rusqlite::Row;
use uuid::Uuid;

/// The customer columns, in the order [`customer_from_row`] reads them.
pub const CUSTOMER_COLUMNS: &str =
    "id, organization_id, branch_id, first_name, surname, phone, email, identification, \
     passport_number, date_of_birth, address, city, notes, source, service_type, is_active, last_activity, created_at, \
     updated_at, merged_into, clocks";

/// The same columns qualified with the table alias `c`.
pub const CUSTOMER_COLUMNS_C: &str = "c.id, c.organization_id, c.branch_id, c.first_name, c.surname, c.phone, c.email, \
     c.identification, c.passport_number, c.date_of_birth, c.address, c.city, c.notes, c.source, c.service_type, c.is_active, \
     c.last_activity, c.created_at, c.updated_at, c.merged_into, c.clocks";

pub fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn parse_uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(|e| StoreError::Corrupt(format!("uuid {s:?}: {e}")))
}

/// A stored `source` that is not one of [`Source::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown customer source {0:?}")]
struct UnknownSource(String);

fn conv_err(idx: usize, e: impl std::error::Error + Send + Sync + 'static) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(idx, Type::Text, Box::new(e))
}

pub fn get_uuid(row: &Row<'_>, idx: usize) -> rusqlite::Result<Uuid> {
    let s: String = row.get(idx)?;
    Uuid::parse_str(&s).map_err(|e| conv_err(idx, e))
}

pub fn get_opt_uuid(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<Uuid>> {
    row.get::<_, Option<String>>(idx)?.map(|s| Uuid::parse_str(&s).map_err(|e| conv_err(idx, e))).transpose()
}

pub fn get_ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<DateTime<Utc>> {
    let s: String = row.get(idx)?;
    DateTime::parse_from_rfc3339(&s).map(|t| t.with_timezone(&Utc)).map_err(|e| conv_err(idx, e))
}

pub fn get_opt_ts(row: &Row<'_>, idx: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    row.get::<_, Option<String>>(idx)?
        .map(|s| DateTime::parse_from_rfc3339(&s).map(|t| t.with_timezone(&Utc)).map_err(|e| conv_err(idx, e)))
        .transpose()
}

pub fn get_json<T: serde::de::DeserializeOwned>(row: &Row<'_>, idx: usize) -> rusqlite::Result<T> {
    let s: String = row.get(idx)?;
    serde_json::from_str(&s).map_err(|e| conv_err(idx, e))
}

pub fn customer_from_row(row: &Row<'_>) -> rusqlite::Result<Customer> {
    let source: String = row.get(13)?;
    Ok(Customer {
        id: get_uuid(row, 0)?,
        organization_id: get_uuid(row, 1)?,
        branch_id: get_opt_uuid(row, 2)?,
        first_name: row.get(3)?,
        surname: row.get(4)?,
        phone: row.get(5)?,
        email: row.get(6)?,
        identification: row.get(7)?,
        passport_number: row.get(8)?,
        date_of_birth: row
            .get::<_, Option<String>>(9)?
            .map(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|e| conv_err(9, e)))
            .transpose()?,
        address: row.get(10)?,
        city: row.get(11)?,
        notes: row.get(12)?,
        source: Source::parse(&source).ok_or_else(|| conv_err(13, UnknownSource(source.clone())))?,
        service_type: row.get(14)?,
        is_active: row.get(15)?,
        last_activity: get_opt_ts(row, 16)?,
        created_at: get_ts(row, 17)?,
        updated_at: get_ts(row, 18)?,
        merged_into: get_opt_uuid(row, 19)?,
        clocks: field_clocks::decode(row.get_ref(20)?.as_str().map_err(|e| conv_err(20, e))?)
            .map_err(|e| conv_err(20, e))?,
    })
}

const UPSERT_HEAD: &str = "INSERT INTO customers (id, organization_id, branch_id, first_name, surname, phone, email, \
     identification, passport_number, date_of_birth, address, city, notes, source, service_type, is_active, \
     last_activity, created_at, updated_at, merged_into, clocks) VALUES";
const UPSERT_TAIL: &str = "ON CONFLICT(id) DO UPDATE SET organization_id = excluded.organization_id, \
     branch_id = excluded.branch_id, first_name = excluded.first_name, surname = excluded.surname, \
     phone = excluded.phone, email = excluded.email, identification = excluded.identification, \
     passport_number = excluded.passport_number, date_of_birth = excluded.date_of_birth, address = excluded.address, \
     city = excluded.city, notes = excluded.notes, source = excluded.source, service_type = excluded.service_type, \
     is_active = excluded.is_active, last_activity = excluded.last_activity, created_at = excluded.created_at, \
     updated_at = excluded.updated_at, merged_into = excluded.merged_into, clocks = excluded.clocks";
const UPSERT_WIDTH: usize = 21;
/// Rows per multi-row upsert: under SQLite's 32,766 bound parameters.
const UPSERT_ROWS: usize = 1_000;

/// Inserts or fully replaces a customer row (matched by id).
pub fn upsert_customer(conn: &rusqlite::Connection, c: &Customer) -> Result<()> {
    upsert_customers(conn, std::slice::from_ref(c))
}

/// Inserts or fully replaces customer rows with multi-row statements. One statement per
/// thousand rows rather than one per row: the FTS index flushes its pending terms at every
/// statement that fires its triggers, which made a bootstrap pull spend most of its time there.
/// `customers` must not hold one id twice.
pub fn upsert_customers(conn: &rusqlite::Connection, customers: &[Customer]) -> Result<()> {
    use rusqlite::types::Value;
    let text = |s: Option<String>| s.map_or(Value::Null, Value::Text);
    for chunk in customers.chunks(UPSERT_ROWS) {
        // Anonymous `?`: numbered parameters cost a name lookup per bind in SQLite.
        let row = format!("({})", vec!["?"; UPSERT_WIDTH].join(", "));
        let sql = format!("{UPSERT_HEAD} {} {UPSERT_TAIL}", vec![row.as_str(); chunk.len()].join(", "));
        let mut values = Vec::with_capacity(chunk.len() * UPSERT_WIDTH);
        for c in chunk {
            values.extend([
                Value::Text(c.id.to_string()),
                Value::Text(c.organization_id.to_string()),
                text(c.branch_id.map(|b| b.to_string())),
                Value::Text(c.first_name.clone()),
                Value::Text(c.surname.clone()),
                text(c.phone.clone()),
                text(c.email.clone()),
                text(c.identification.clone()),
                text(c.passport_number.clone()),
                text(c.date_of_birth.map(|d| d.format("%Y-%m-%d").to_string())),
                text(c.address.clone()),
                text(c.city.clone()),
                text(c.notes.clone()),
                Value::Text(c.source.as_str().to_owned()),
                text(c.service_type.clone()),
                Value::Integer(i64::from(c.is_active)),
                text(c.last_activity.as_ref().map(ts)),
                Value::Text(ts(&c.created_at)),
                Value::Text(ts(&c.updated_at)),
                text(c.merged_into.map(|m| m.to_string())),
                Value::Text(field_clocks::encode(&c.clocks)),
            ]);
        }
        conn.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(values))?;
    }
    Ok(())
}
