//! Customer reads of the REST API: one customer, filtered pages, quick lookup, key hits,
//! preferences, sales and stats. Writes go through `write_changes` (the path terminals push
//! through, so field clocks and the organisation sequence stay one story) or `review.rs`.

use super::rows::{customer_search_columns, decode, StoredPreferences, Val};
use super::{ts, uuid_col, Db, DbResult};
use chrono::{DateTime, Utc};
use pos_core::lookup::{exact_candidates, name_words, prefix_candidates};
pub use pos_core::lookup::{MatchedBy, Ordering};
use pos_core::text::fold;
use pos_core::{Customer, Hlc, KeyHits, MatchKeys, Preferences, Sale, Source};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The SQL `ORDER BY` of an ordering.
fn order_by(ordering: Ordering) -> &'static str {
    match ordering {
        Ordering::CreatedAt => "created_at ASC, id ASC",
        Ordering::CreatedAtDesc => "created_at DESC, id DESC",
        Ordering::Surname => "sort_surname ASC, id ASC",
        Ordering::FirstName => "search_name ASC, id ASC",
        Ordering::UpdatedAtDesc => "updated_at DESC, id DESC",
        Ordering::LastActivityDesc => "last_activity IS NULL, last_activity DESC, id DESC",
    }
}

/// Filters and paging of the customer list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerFilter {
    /// Any identifier (whole or its start, in any written form) or words of the name.
    pub search: Option<String>,
    pub is_active: Option<bool>,
    pub source: Option<Source>,
    pub branch_id: Option<Uuid>,
    pub city: Option<String>,
    pub created_from: Option<DateTime<Utc>>,
    /// Exclusive.
    pub created_to: Option<DateTime<Utc>>,
    pub ordering: Ordering,
    /// 1-based.
    pub page: u64,
    pub page_size: u64,
}

/// Totals of an organisation's live customers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct CustomerStats {
    pub total: i64,
    pub active: i64,
    pub inactive: i64,
    pub by_source: BTreeMap<String, i64>,
    /// Branch id (or `"none"`) → customers.
    pub by_branch: BTreeMap<String, i64>,
    /// `YYYY-MM-DD` → customers created that day (UTC), for the requested window.
    pub new_per_day: BTreeMap<String, i64>,
}

/// `LIKE` pattern text with its wildcards escaped (`\` is the escape character).
fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// A WHERE clause under construction, with its bound values (`$1` is the organisation).
struct Where {
    sql: Vec<String>,
    values: Vec<Val>,
}

impl Where {
    fn new(org: Uuid) -> Self {
        Self { sql: vec!["organization_id = $1".into(), "merged_into IS NULL".into()], values: vec![Val::text(org)] }
    }

    /// Binds `v` and returns its placeholder.
    fn bind(&mut self, v: Val) -> String {
        self.values.push(v);
        format!("${}", self.values.len())
    }

    /// Every way typed text can name a customer, as one condition: an exact identifier, the
    /// start of one, or every word starting a word of the name.
    fn search(&mut self, text: &str) {
        let mut any_of = Vec::new();
        for (kind, key) in exact_candidates(text) {
            let p = self.bind(Val::text(key));
            any_of.push(format!("{} = {p}", kind.field()));
        }
        for (kind, prefix) in prefix_candidates(text) {
            let p = self.bind(Val::text(format!("{}%", like_escape(&prefix))));
            any_of.push(format!("{} LIKE {p} ESCAPE '\\'", kind.field()));
        }
        if let Some(words) = self.name_condition(text) {
            any_of.push(words);
        }
        self.sql.push(if any_of.is_empty() { "1 = 0".into() } else { format!("({})", any_of.join(" OR ")) });
    }

    fn name_condition(&mut self, text: &str) -> Option<String> {
        let words = name_words(text);
        if words.is_empty() {
            return None;
        }
        let conditions: Vec<String> = words
            .iter()
            .map(|w| {
                let p = self.bind(Val::text(format!("% {}%", like_escape(w))));
                format!("(' ' || search_name) LIKE {p} ESCAPE '\\'")
            })
            .collect();
        Some(format!("({})", conditions.join(" AND ")))
    }

    fn clause(&self) -> String {
        self.sql.join(" AND ")
    }
}

impl Db {
    pub(super) async fn fetch(&self, sql: &str, values: &[Val]) -> DbResult<Vec<AnyRow>> {
        let mut q = sqlx::query(self.sql(sql));
        for v in values {
            q = v.clone().bind_to(q);
        }
        Ok(q.fetch_all(&self.pool).await?)
    }

    /// Fills the search columns of rows written before migration 2, inside its transaction.
    pub(super) async fn fill_search_columns(&self, tx: &mut Transaction<'_, Any>) -> DbResult<()> {
        // Keyset over the primary key, so each batch starts where the last one ended.
        let (mut after_id, mut after_org) = (String::new(), String::new());
        loop {
            let rows = sqlx::query(self.sql(
                "SELECT organization_id, id, data FROM customers WHERE (id, organization_id) > ($1, $2) \
                 ORDER BY id, organization_id LIMIT 1000",
            ))
            .bind(&after_id)
            .bind(&after_org)
            .fetch_all(&mut **tx)
            .await?;
            let Some(last) = rows.last() else { return Ok(()) };
            (after_id, after_org) = (last.try_get("id")?, last.try_get("organization_id")?);
            for row in &rows {
                let c: Customer = decode(row)?;
                let org: String = row.try_get("organization_id")?;
                let [name, surname, source, branch, city, updated, activity] = customer_search_columns(&c);
                sqlx::query(self.sql(
                    "UPDATE customers SET search_name = $1, sort_surname = $2, source = $3, branch_id = $4, city = $5, \
                     updated_at = $6, last_activity = $7 WHERE organization_id = $8 AND id = $9",
                ))
                .bind(name)
                .bind(surname)
                .bind(source)
                .bind(branch)
                .bind(city)
                .bind(updated)
                .bind(activity)
                .bind(org)
                .bind(c.id.to_string())
                .execute(&mut **tx)
                .await?;
            }
        }
    }

    /// Whether `branch` is a branch of `org`.
    pub async fn branch_exists(&self, org: Uuid, branch: Uuid) -> DbResult<bool> {
        let rows = self
            .fetch(
                "SELECT id FROM branches WHERE organization_id = $1 AND id = $2",
                &[Val::text(org), Val::text(branch)],
            )
            .await?;
        Ok(!rows.is_empty())
    }

    /// The customer stored under `id` in `org` (a tombstone included).
    pub async fn customer(&self, org: Uuid, id: Uuid) -> DbResult<Option<Customer>> {
        let rows = self
            .fetch(
                "SELECT data FROM customers WHERE organization_id = $1 AND id = $2",
                &[Val::text(org), Val::text(id)],
            )
            .await?;
        rows.first().map(decode).transpose()
    }

    /// The live customer `id` is, following merge links (`None` if unknown in `org`).
    pub async fn live_customer(&self, org: Uuid, id: Uuid) -> DbResult<Option<Customer>> {
        let mut next = Some(id);
        for _ in 0..16 {
            let Some(id) = next else { return Ok(None) };
            match self.customer(org, id).await? {
                Some(c) if c.merged_into.is_none() => return Ok(Some(c)),
                Some(c) => next = c.merged_into,
                None => return Ok(None),
            }
        }
        Ok(None)
    }

    /// For each key, the live customer holding it (other than `except`).
    pub async fn key_hits(&self, org: Uuid, keys: &MatchKeys, except: Option<Uuid>) -> DbResult<KeyHits> {
        let mut hits = KeyHits::default();
        for (kind, value) in keys.iter() {
            let sql = format!("SELECT id FROM customers WHERE organization_id = $1 AND {} = $2", kind.field());
            let rows = self.fetch(&sql, &[Val::text(org), Val::text(value)]).await?;
            let owner = rows.first().map(|r| uuid_col(r, "id")).transpose()?.filter(|id| Some(*id) != except);
            hits.set(kind, owner);
        }
        Ok(hits)
    }

    /// One page of live customers matching `f`, and how many match in all.
    pub async fn list_customers(&self, org: Uuid, f: &CustomerFilter) -> DbResult<(u64, Vec<Customer>)> {
        let mut w = Where::new(org);
        if let Some(text) = f.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            w.search(text);
        }
        if let Some(active) = f.is_active {
            let p = w.bind(Val::Int(i64::from(active)));
            w.sql.push(format!("is_active = {p}"));
        }
        if let Some(source) = f.source {
            let p = w.bind(Val::text(source.as_str()));
            w.sql.push(format!("source = {p}"));
        }
        if let Some(branch) = f.branch_id {
            let p = w.bind(Val::text(branch));
            w.sql.push(format!("branch_id = {p}"));
        }
        if let Some(city) = f.city.as_deref().map(fold).filter(|c| !c.is_empty()) {
            let p = w.bind(Val::text(city));
            w.sql.push(format!("city = {p}"));
        }
        if let Some(from) = f.created_from {
            let p = w.bind(Val::text(ts(&from)));
            w.sql.push(format!("created_at >= {p}"));
        }
        if let Some(to) = f.created_to {
            let p = w.bind(Val::text(ts(&to)));
            w.sql.push(format!("created_at < {p}"));
        }
        let clause = w.clause();
        let count: i64 = self
            .fetch(&format!("SELECT COUNT(*) AS n FROM customers WHERE {clause}"), &w.values)
            .await?
            .first()
            .map(|r| r.try_get("n"))
            .transpose()?
            .unwrap_or(0);
        let page_size = f.page_size.clamp(1, MAX_PAGE_SIZE);
        let offset = f.page.max(1).saturating_sub(1).saturating_mul(page_size);
        let sql = format!(
            "SELECT data FROM customers WHERE {clause} ORDER BY {} LIMIT {page_size} OFFSET {offset}",
            order_by(f.ordering)
        );
        let rows = self.fetch(&sql, &w.values).await?;
        Ok((count.max(0) as u64, rows.iter().map(decode).collect::<DbResult<_>>()?))
    }

    /// What someone typed → matching customers, best first: a whole identifier answers alone;
    /// otherwise identifier prefixes, then names. Inactive customers are included.
    pub async fn quick_lookup(&self, org: Uuid, q: &str, limit: u64) -> DbResult<Vec<(Customer, MatchedBy)>> {
        let q = q.trim();
        let limit = limit.clamp(1, MAX_PAGE_SIZE);
        let mut hits: Vec<(Customer, MatchedBy)> = Vec::new();
        let push = |hits: &mut Vec<(Customer, MatchedBy)>, c: Customer, by: MatchedBy| {
            if !hits.iter().any(|(h, _)| h.id == c.id) {
                hits.push((c, by));
            }
        };
        if q.is_empty() {
            return Ok(hits);
        }
        for (kind, key) in exact_candidates(q) {
            if hits.iter().any(|(_, by)| *by != MatchedBy::Exact(kind)) {
                break; // a higher-priority key already named the customer
            }
            let sql = format!("SELECT data FROM customers WHERE organization_id = $1 AND {} = $2", kind.field());
            for row in self.fetch(&sql, &[Val::text(org), Val::text(key)]).await? {
                push(&mut hits, decode(&row)?, MatchedBy::Exact(kind));
            }
        }
        if !hits.is_empty() {
            return Ok(hits);
        }
        for (kind, prefix) in prefix_candidates(q) {
            let sql = format!(
                "SELECT data FROM customers WHERE organization_id = $1 AND merged_into IS NULL AND {col} LIKE $2 ESCAPE '\\' \
                 ORDER BY {col} LIMIT {limit}",
                col = kind.field()
            );
            for row in self.fetch(&sql, &[Val::text(org), Val::text(format!("{}%", like_escape(&prefix)))]).await? {
                push(&mut hits, decode(&row)?, MatchedBy::Prefix(kind));
            }
        }
        if (hits.len() as u64) < limit {
            let mut w = Where::new(org);
            if let Some(condition) = w.name_condition(q) {
                w.sql.push(condition);
                let sql = format!(
                    "SELECT data FROM customers WHERE {} ORDER BY is_active DESC, search_name, id LIMIT {limit}",
                    w.clause()
                );
                for row in self.fetch(&sql, &w.values).await? {
                    push(&mut hits, decode(&row)?, MatchedBy::Name);
                }
            }
        }
        hits.truncate(limit as usize);
        Ok(hits)
    }

    /// A customer's stored preferences with their field clocks.
    pub async fn preferences(
        &self,
        org: Uuid,
        customer: Uuid,
    ) -> DbResult<Option<(Preferences, BTreeMap<String, Hlc>)>> {
        let rows = self
            .fetch(
                "SELECT data FROM customer_preferences WHERE organization_id = $1 AND customer_id = $2",
                &[Val::text(org), Val::text(customer)],
            )
            .await?;
        Ok(rows.first().map(decode::<StoredPreferences>).transpose()?.map(|s| (s.preferences, s.clocks)))
    }

    /// A customer's sales, newest first.
    pub async fn sales_of(&self, org: Uuid, customer: Uuid) -> DbResult<Vec<Sale>> {
        let rows = self
            .fetch(
                "SELECT data FROM sales WHERE organization_id = $1 AND customer_id = $2 ORDER BY sold_at DESC, id",
                &[Val::text(org), Val::text(customer)],
            )
            .await?;
        rows.iter().map(decode).collect()
    }

    /// Sales of the organisation since `since`, oldest first.
    pub async fn sales_since(&self, org: Uuid, since: DateTime<Utc>) -> DbResult<Vec<Sale>> {
        let rows = self
            .fetch(
                "SELECT data FROM sales WHERE organization_id = $1 AND sold_at >= $2 ORDER BY sold_at, id",
                &[Val::text(org), Val::text(ts(&since))],
            )
            .await?;
        rows.iter().map(decode).collect()
    }

    /// Live customers whose last activity is at or after `since`, or who were created since.
    pub async fn customers_active_since(&self, org: Uuid, since: DateTime<Utc>) -> DbResult<Vec<Customer>> {
        let rows = self
            .fetch(
                "SELECT data FROM customers WHERE organization_id = $1 AND merged_into IS NULL AND is_active = 1 \
                 AND (last_activity >= $2 OR created_at >= $2) ORDER BY created_at, id",
                &[Val::text(org), Val::text(ts(&since))],
            )
            .await?;
        rows.iter().map(decode).collect()
    }

    /// Totals by source, branch and active flag, and new customers per day since `since`.
    pub async fn customer_stats(&self, org: Uuid, since: DateTime<Utc>) -> DbResult<CustomerStats> {
        let mut stats = CustomerStats::default();
        let live = "FROM customers WHERE organization_id = $1 AND merged_into IS NULL";
        let o = [Val::text(org)];
        for row in self.fetch(&format!("SELECT is_active AS k, COUNT(*) AS n {live} GROUP BY is_active"), &o).await? {
            let (k, n): (i64, i64) = (row.try_get("k")?, row.try_get("n")?);
            if k == 0 {
                stats.inactive = n;
            } else {
                stats.active += n;
            }
        }
        stats.total = stats.active + stats.inactive;
        for row in self.fetch(&format!("SELECT source AS k, COUNT(*) AS n {live} GROUP BY source"), &o).await? {
            let k: Option<String> = row.try_get("k")?;
            stats.by_source.insert(k.unwrap_or_else(|| "unknown".into()), row.try_get("n")?);
        }
        for row in self.fetch(&format!("SELECT branch_id AS k, COUNT(*) AS n {live} GROUP BY branch_id"), &o).await? {
            let k: Option<String> = row.try_get("k")?;
            stats.by_branch.insert(k.unwrap_or_else(|| "none".into()), row.try_get("n")?);
        }
        let sql = format!(
            "SELECT substr(created_at, 1, 10) AS k, COUNT(*) AS n {live} AND created_at >= $2 \
             GROUP BY substr(created_at, 1, 10)"
        );
        for row in self.fetch(&sql, &[Val::text(org), Val::text(ts(&since))]).await? {
            stats.new_per_day.insert(row.try_get("k")?, row.try_get("n")?);
        }
        Ok(stats)
    }
}

/// Largest page the list and lookups answer.
pub const MAX_PAGE_SIZE: u64 = 200;
