//! Lookup at the counter and search for the back office. `quick_lookup` takes whatever the
//! cashier typed — a cédula, phone, email or passport in any written form, a part of one, or a
//! name — and answers from indexes only: a whole identifier answers alone; otherwise identifier
//! prefixes, then names through FTS5 (prefix-, case- and accent-insensitive).

use crate::rows::{customer_from_row, ts, CUSTOMER_COLUMNS, CUSTOMER_COLUMNS_C};
use crate::{Result, Store};
use chrono::{DateTime, Utc};
use pos_core::lookup::{exact_candidates, name_words, prefix_candidates};
pub use pos_core::lookup::{MatchedBy, Ordering};
use pos_core::text::fold;
use pos_core::{Customer, Source};
use rusqlite::types::Value as SqlValue;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LookupHit {
    pub customer: Customer,
    pub matched_by: MatchedBy,
}

/// An FTS5 query matching every typed word as a prefix: `perez ju` → `"perez"* "ju"*`.
fn fts_query(q: &str) -> Option<String> {
    let words: Vec<String> = name_words(q).iter().map(|w| format!("\"{w}\"*")).collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The smallest string greater than every string starting with `prefix`.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

fn push_unique(hits: &mut Vec<LookupHit>, customer: Customer, matched_by: MatchedBy) {
    if !hits.iter().any(|h| h.customer.id == customer.id) {
        hits.push(LookupHit { customer, matched_by });
    }
}

// LIMITs are written into the SQL, not bound: a bound LIMIT makes SQLite re-prepare the
// statement on every new value, which costs more than the query itself.
pub(crate) fn quick_lookup(conn: &Connection, q: &str, limit: usize) -> Result<Vec<LookupHit>> {
    let q = q.trim();
    let mut hits: Vec<LookupHit> = Vec::new();
    if q.is_empty() || limit == 0 {
        return Ok(hits);
    }
    for (kind, key) in exact_candidates(q) {
        if hits.iter().any(|h| h.matched_by != MatchedBy::Exact(kind)) {
            // A higher-priority key already named the customer; lower ones would only add noise.
            break;
        }
        let sql = format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE {} = ?1 AND merged_into IS NULL LIMIT {limit}",
            kind.field()
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        for c in stmt.query_map([key], customer_from_row)? {
            push_unique(&mut hits, c?, MatchedBy::Exact(kind));
        }
    }
    if !hits.is_empty() {
        // A whole identifier names one person: partial matches would only be noise.
        return Ok(hits);
    }
    for (kind, prefix) in prefix_candidates(q) {
        if hits.len() >= limit {
            break;
        }
        let sql = format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE {col} >= ?1 AND {col} < ?2 AND merged_into IS NULL ORDER BY {col} LIMIT {limit}",
            col = kind.field()
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        for c in stmt.query_map((&prefix, prefix_end(&prefix)), customer_from_row)? {
            push_unique(&mut hits, c?, MatchedBy::Prefix(kind));
        }
    }
    if hits.len() < limit {
        if let Some(fts) = fts_query(q) {
            let sql = format!(
                "SELECT {CUSTOMER_COLUMNS_C} FROM customers_fts f CROSS JOIN customers c ON c.seq = f.rowid
                 WHERE customers_fts MATCH ?1 AND c.merged_into IS NULL LIMIT {limit}"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut by_name: Vec<Customer> =
                stmt.query_map([fts], customer_from_row)?.collect::<rusqlite::Result<_>>()?;
            by_name.truncate(limit - hits.len());
            by_name.sort_by_cached_key(|c| (!c.is_active, fold(&c.full_name())));
            for c in by_name {
                push_unique(&mut hits, c, MatchedBy::Name);
            }
        }
    }
    hits.truncate(limit);
    Ok(hits)
}

/// The SQL `ORDER BY` of an ordering.
fn order_by(ordering: Ordering) -> &'static str {
    match ordering {
        Ordering::CreatedAt => "c.created_at ASC, c.seq ASC",
        Ordering::CreatedAtDesc => "c.created_at DESC, c.seq DESC",
        Ordering::Surname => "c.surname COLLATE NOCASE, c.first_name COLLATE NOCASE, c.seq",
        Ordering::FirstName => "c.first_name COLLATE NOCASE, c.surname COLLATE NOCASE, c.seq",
        Ordering::UpdatedAtDesc => "c.updated_at DESC, c.seq DESC",
        Ordering::LastActivityDesc => "c.last_activity IS NULL, c.last_activity DESC, c.seq DESC",
    }
}

/// Filters and paging for the customer list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchQuery {
    /// Any identifier or name, as in quick lookup.
    pub search: Option<String>,
    pub is_active: Option<bool>,
    pub source: Option<Source>,
    pub branch_id: Option<Uuid>,
    pub city: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub ordering: Ordering,
    /// 1-based.
    pub page: u32,
    pub page_size: u32,
}

/// One page of results and the total count (seed 1's `{count, results}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub count: u64,
    pub page: u32,
    pub page_size: u32,
    pub results: Vec<T>,
}

pub const MAX_PAGE_SIZE: u32 = 200;

pub(crate) fn search(conn: &Connection, q: &SearchQuery) -> Result<Page<Customer>> {
    let page_size = q.page_size.clamp(1, MAX_PAGE_SIZE);
    let page = q.page.max(1);
    let mut filters = vec!["c.merged_into IS NULL".to_owned()];
    let mut params: Vec<SqlValue> = Vec::new();
    if let Some(text) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        // The same reading of the text as quick lookup, as one SQL condition, so counts and
        // pages cover every match.
        let mut any_of: Vec<String> = Vec::new();
        for (kind, key) in exact_candidates(text) {
            params.push(key.into());
            any_of.push(format!("c.{} = ?{}", kind.field(), params.len()));
        }
        for (kind, prefix) in prefix_candidates(text) {
            params.push(prefix_end(&prefix).into());
            params.push(prefix.into());
            let n = params.len();
            any_of.push(format!("(c.{col} >= ?{n} AND c.{col} < ?{})", n - 1, col = kind.field()));
        }
        if let Some(fts) = fts_query(text) {
            params.push(fts.into());
            any_of.push(format!(
                "c.seq IN (SELECT rowid FROM customers_fts WHERE customers_fts MATCH ?{})",
                params.len()
            ));
        }
        filters.push(if any_of.is_empty() { "0".to_owned() } else { format!("({})", any_of.join(" OR ")) });
    }
    let mut param = |filters: &mut Vec<String>, sql: &str, v: SqlValue| {
        params.push(v);
        filters.push(sql.replace('?', &format!("?{}", params.len())));
    };
    if let Some(active) = q.is_active {
        param(&mut filters, "c.is_active = ?", (active as i64).into());
    }
    if let Some(source) = q.source {
        param(&mut filters, "c.source = ?", source.as_str().to_owned().into());
    }
    if let Some(branch) = q.branch_id {
        param(&mut filters, "c.branch_id = ?", branch.to_string().into());
    }
    if let Some(city) = q.city.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        param(&mut filters, "c.city = ? COLLATE NOCASE", city.to_owned().into());
    }
    if let Some(from) = q.created_from {
        param(&mut filters, "c.created_at >= ?", ts(&from).into());
    }
    if let Some(to) = q.created_to {
        param(&mut filters, "c.created_at < ?", ts(&to).into());
    }
    let where_sql = filters.join(" AND ");
    let count: u64 = conn
        .prepare(&format!("SELECT count(*) FROM customers c WHERE {where_sql}"))?
        .query_row(rusqlite::params_from_iter(&params), |r| r.get(0))?;
    let sql = format!(
        "SELECT {CUSTOMER_COLUMNS_C} FROM customers c WHERE {where_sql} ORDER BY {} LIMIT {page_size} OFFSET {}",
        order_by(q.ordering),
        u64::from(page - 1) * u64::from(page_size)
    );
    let results = conn
        .prepare(&sql)?
        .query_map(rusqlite::params_from_iter(&params), customer_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Page { count, page, page_size, results })
}

impl Store {
    /// What the cashier typed → matching customers, best first, at most `limit`. Inactive
    /// customers are included (checkout reactivates them); merged-away ones are not.
    pub fn quick_lookup(&self, q: &str, limit: usize) -> Result<Vec<LookupHit>> {
        quick_lookup(&self.conn, q, limit)
    }

    /// The customer list with filters, ordering and pages.
    pub fn search(&self, q: &SearchQuery) -> Result<Page<Customer>> {
        search(&self.conn, q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_query_quotes_folded_words() {
        assert_eq!(fts_query("Pérez  ju").as_deref(), Some("\"perez\"* \"ju\"*"));
        assert_eq!(fts_query("\"*"), None);
    }
}
