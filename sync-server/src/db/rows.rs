//! Row shapes the store modules share: bound values, the `INSERT`s of the write path, and the
//! customer row with the search columns derived from it.

use super::{ts, DbError, DbResult};
use pos_core::{Customer, Hlc, Preferences};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::BTreeMap;

/// Values per `IN (…)` list: a whole push's keys in one statement where it fits (each statement
/// is a round trip and, on PostgreSQL, a fresh plan), well under both engines' parameter limits.
pub(super) const IN_LIST_LEN: usize = 4_096;

/// A bound value: the store's columns are text or integers.
#[derive(Clone)]
pub(super) enum Val {
    Text(Option<String>),
    Int(i64),
}

/// A statement on sqlx's `Any` driver, its values bound one by one.
pub(super) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

impl Val {
    pub(super) fn text(v: impl ToString) -> Val {
        Val::Text(Some(v.to_string()))
    }

    /// `query` with this value bound to its next placeholder.
    pub(super) fn bind_to(self, query: AnyQuery<'_>) -> AnyQuery<'_> {
        match self {
            Val::Text(t) => query.bind(t),
            Val::Int(i) => query.bind(i),
        }
    }
}

/// An `INSERT` into `table` (see `WriteTx::insert_rows`).
#[derive(Debug, Clone, Copy)]
pub(super) struct Insert {
    pub(super) table: &'static str,
    pub(super) columns: &'static [&'static str],
    /// `ON CONFLICT …`, or empty.
    pub(super) on_conflict: &'static str,
}

pub(super) const CUSTOMER_INSERT: Insert = Insert {
    table: "customers",
    columns: &[
        "organization_id",
        "id",
        "seq",
        "phone",
        "email",
        "identification",
        "passport_number",
        "merged_into",
        "is_active",
        "created_at",
        "data",
        "search_name",
        "sort_surname",
        "source",
        "branch_id",
        "city",
        "updated_at",
        "last_activity",
    ],
    on_conflict: "",
};
pub(super) const CUSTOMER_UPSERT: Insert = Insert {
    on_conflict: "ON CONFLICT (organization_id, id) DO UPDATE SET seq = excluded.seq, phone = excluded.phone, \
     email = excluded.email, identification = excluded.identification, passport_number = excluded.passport_number, \
     merged_into = excluded.merged_into, is_active = excluded.is_active, data = excluded.data, \
     search_name = excluded.search_name, sort_surname = excluded.sort_surname, source = excluded.source, \
     branch_id = excluded.branch_id, city = excluded.city, updated_at = excluded.updated_at, \
     last_activity = excluded.last_activity",
    ..CUSTOMER_INSERT
};

/// [`CUSTOMER_UPSERT`] for a row whose keys are unchanged: SQLite rewrites the index entries of
/// every column an `UPDATE` sets, changed or not.
pub(super) const CUSTOMER_UPSERT_SAME_KEYS: Insert = Insert {
    on_conflict: "ON CONFLICT (organization_id, id) DO UPDATE SET seq = excluded.seq, \
     merged_into = excluded.merged_into, is_active = excluded.is_active, data = excluded.data, \
     search_name = excluded.search_name, sort_surname = excluded.sort_surname, source = excluded.source, \
     branch_id = excluded.branch_id, city = excluded.city, updated_at = excluded.updated_at, \
     last_activity = excluded.last_activity",
    ..CUSTOMER_INSERT
};

/// A customer's preferences, replacing the stored ones.
pub(super) const PREFERENCES_UPSERT: Insert = Insert {
    table: "customer_preferences",
    columns: &["organization_id", "customer_id", "seq", "data"],
    on_conflict: "ON CONFLICT (organization_id, customer_id) DO UPDATE SET seq = excluded.seq, data = excluded.data",
};

/// A sale.
pub(super) const SALE_INSERT: Insert = Insert {
    table: "sales",
    columns: &["organization_id", "id", "seq", "customer_id", "sold_at", "data"],
    on_conflict: "",
};

/// A change applied, with its outcome: what makes a replay change nothing.
pub(super) const APPLIED_CHANGE_INSERT: Insert = Insert {
    table: "applied_changes",
    columns: &["organization_id", "change_id", "device_id", "outcome", "applied_at"],
    on_conflict: "",
};

/// A suspected duplicate for a manager to review.
pub(super) const REVIEW_ITEM_INSERT: Insert = Insert {
    table: "review_items",
    columns: &["organization_id", "id", "customer_a", "customer_b", "match_key", "created_at"],
    on_conflict: "",
};

/// A record merged into a customer, kept in the merge log.
pub(super) const MERGE_LOG_INSERT: Insert = Insert {
    table: "merge_log",
    columns: &["organization_id", "id", "target_id", "source_id", "change_id", "data", "merged_at", "merged_by"],
    on_conflict: "",
};

/// The columns the REST API filters, searches and orders by, derived from the record.
pub(super) fn customer_search_columns(c: &Customer) -> [Option<String>; 7] {
    use pos_core::text::fold;
    [
        Some(fold(&format!("{} {}", c.first_name, c.surname))),
        Some(fold(&format!("{} {}", c.surname, c.first_name))),
        Some(c.source.as_str().to_owned()),
        c.branch_id.map(|b| b.to_string()),
        c.city.as_deref().map(fold),
        Some(ts(&c.updated_at)),
        c.last_activity.as_ref().map(ts),
    ]
}

pub(super) fn customer_row(org: Val, seq: Val, c: &Customer) -> Vec<Val> {
    let mut row = vec![
        org,
        Val::text(c.id),
        seq,
        Val::Text(c.phone.clone()),
        Val::Text(c.email.clone()),
        Val::Text(c.identification.clone()),
        Val::Text(c.passport_number.clone()),
        Val::Text(c.merged_into.map(|m| m.to_string())),
        Val::Int(i64::from(c.is_active)),
        Val::Text(Some(ts(&c.created_at))),
        Val::Text(Some(serde_json::to_string(c).expect("customers serialise"))),
    ];
    row.extend(customer_search_columns(c).into_iter().map(Val::Text));
    row
}

/// A [`customer_row`] with its key columns empty: the row as it is while its keys move.
pub(super) fn without_keys(row: &[Val]) -> Vec<Val> {
    let keys = ["phone", "email", "identification", "passport_number"];
    let columns = CUSTOMER_INSERT.columns.iter();
    columns.zip(row).map(|(c, v)| if keys.contains(c) { Val::Text(None) } else { v.clone() }).collect()
}

/// The `data` column of `customer_preferences`: the preferences with their field clocks.
#[derive(Serialize, Deserialize)]
pub(super) struct StoredPreferences {
    pub(super) preferences: Preferences,
    pub(super) clocks: BTreeMap<String, Hlc>,
}

/// A row's `data` column (the stored JSON record) as `T`.
pub(super) fn decode<T: serde::de::DeserializeOwned>(row: &AnyRow) -> DbResult<T> {
    parse(&row.try_get::<String, _>("data")?)
}

/// A stored JSON column as `T`.
pub(super) fn parse<T: serde::de::DeserializeOwned>(json: &str) -> DbResult<T> {
    serde_json::from_str(json).map_err(|e| DbError::Corrupt(e.to_string()))
}
