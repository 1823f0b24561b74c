//! The store's side of sync: what a push answered (acknowledge, remap, reject), and applying
//! pulled pages together with their cursor. The one-uploader rule is `uploader.rs`.

use crate::customers::{remote_customer_row, store_preferences, stored_preferences};
use crate::outbox::unacknowledged;
use crate::rows::upsert_customers;
use crate::sales::insert_sale;
use crate::{state_get, state_set, Result, Store, StoreError};
use chrono::{DateTime, Utc};
use pos_core::merge::{rebase, record_fields, with_fields};
use pos_core::preferences::PREFERENCE_FIELDS;
use pos_core::wire::{ChangeBody, ChangeOutcome, ChangeResult, PulledItem};
use pos_core::Hlc;
use rusqlite::{OptionalExtension, TransactionBehavior};
use serde::Serialize;
use std::collections::BTreeMap;

/// The `sync_state` key holding the schema a bulk load set aside.
const BULK_LOAD: &str = "bulk_load_schema";

pub(crate) fn finish_bulk_load(conn: &mut rusqlite::Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(saved) = state_get(&tx, BULK_LOAD)? {
        let definitions: Vec<String> = serde_json::from_str(&saved).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        for sql in definitions {
            tx.execute_batch(&sql)?;
        }
        tx.execute("INSERT INTO customers_fts(customers_fts) VALUES ('rebuild')", [])?;
        tx.execute("DELETE FROM sync_state WHERE key = ?1", [BULK_LOAD])?;
    }
    tx.commit()?;
    Ok(())
}

/// What applying a push answer did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PushApplied {
    pub acknowledged: usize,
    pub merged: usize,
    pub rejected: usize,
}

impl Store {
    /// Applies the server's answers to pushed changes in one transaction: acknowledged entries
    /// leave the outbox, a customer merged into another points at it (and its sales move), a
    /// rejected entry is set aside with its field errors.
    pub fn apply_push_results(&mut self, results: &[ChangeResult]) -> Result<PushApplied> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut done = PushApplied::default();
        for result in results {
            let id = result.change_id.to_string();
            match &result.outcome {
                ChangeOutcome::Applied => {
                    // A push answers thousands of changes: prepare each statement once.
                    done.acknowledged += tx.prepare_cached("DELETE FROM outbox WHERE change_id = ?1")?.execute([&id])?
                }
                ChangeOutcome::MergedInto { target } => {
                    let payload: Option<String> = tx
                        .prepare_cached("SELECT payload FROM outbox WHERE change_id = ?1")?
                        .query_row([&id], |r| r.get(0))
                        .optional()?;
                    let change: Option<pos_core::wire::Change> = payload
                        .map(|p| serde_json::from_str(&p))
                        .transpose()
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    if let Some(ChangeBody::Customer { id: local, .. }) = change.map(|c| c.body) {
                        if local != *target {
                            tx.execute(
                                "UPDATE customers SET merged_into = ?1 WHERE id = ?2",
                                (target.to_string(), local.to_string()),
                            )?;
                            tx.execute(
                                "UPDATE sales SET customer_id = ?1 WHERE customer_id = ?2",
                                (target.to_string(), local.to_string()),
                            )?;
                        }
                    }
                    done.merged += tx.prepare_cached("DELETE FROM outbox WHERE change_id = ?1")?.execute([&id])?;
                }
                ChangeOutcome::Rejected { errors } => {
                    done.rejected += tx.execute(
                        "UPDATE outbox SET state = 'rejected', rejection = ?2 WHERE change_id = ?1",
                        (&id, serde_json::to_string(errors).expect("errors serialise")),
                    )?;
                }
            }
        }
        tx.commit()?;
        Ok(done)
    }

    /// Where the next pull starts (0 for a new terminal).
    pub fn pull_cursor(&self) -> Result<i64> {
        Ok(state_get(&self.conn, "pull_cursor")?.and_then(|s| s.parse().ok()).unwrap_or(0))
    }

    /// Applies one pulled page and stores its cursor in the same transaction, so a crash never
    /// leaves the cursor ahead of the data (or the data ahead of the cursor).
    pub fn apply_pull(&mut self, items: &[PulledItem], cursor: i64) -> Result<()> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let pending = unacknowledged(&tx)?;
        let mut newest = self.clock.last();
        // Customer rows are written together (see `upsert_customers`), before any other item
        // so a sale or preference still finds the rows that came before it. A page holds each
        // customer once.
        let mut customers = Vec::new();
        for item in items {
            if !matches!(item, PulledItem::Customer { .. }) {
                upsert_customers(&tx, &customers)?;
                customers.clear();
            }
            match item {
                PulledItem::Customer { customer } => {
                    let row = remote_customer_row(&tx, customer, pending.customer(customer.id))?;
                    newest = newest.max(row.clocks.values().copied().max().unwrap_or(Hlc::ZERO));
                    customers.push(row);
                }
                PulledItem::Sale { sale } => insert_sale(&tx, sale)?,
                PulledItem::Preferences { customer_id, preferences, clocks } => {
                    let (local, local_clocks) = stored_preferences(&tx, *customer_id)?.unwrap_or_default();
                    let joined = rebase(
                        &record_fields(preferences, &PREFERENCE_FIELDS, clocks),
                        &record_fields(&local, &PREFERENCE_FIELDS, &local_clocks),
                        pending.preferences(*customer_id),
                    );
                    let merged = with_fields(&local, &PREFERENCE_FIELDS, &joined)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    let merged_clocks: BTreeMap<String, Hlc> =
                        joined.iter().map(|(f, s)| (f.clone(), s.clock)).collect();
                    newest = newest.max(merged_clocks.values().copied().max().unwrap_or(Hlc::ZERO));
                    store_preferences(&tx, *customer_id, &merged, &merged_clocks)?;
                }
            }
        }
        upsert_customers(&tx, &customers)?;
        state_set(&tx, "pull_cursor", &cursor.to_string())?;
        let mut clock = self.clock.clone();
        // Later local writes must order after everything pulled. A clock too far ahead was
        // already restamped by the server, so a refusal here only means "ignore it".
        let _ = clock.observe(newest, Utc::now().timestamp_millis().max(0) as u64);
        state_set(&tx, "hlc", &clock.last().to_string())?;
        tx.commit()?;
        self.clock = clock;
        Ok(())
    }

    /// Applies customers from elsewhere (bulk load, tests) as a pull without a cursor would.
    pub fn apply_remote_customers(&mut self, customers: &[pos_core::Customer]) -> Result<()> {
        let cursor = self.pull_cursor()?;
        let items: Vec<PulledItem> =
            customers.iter().map(|c| PulledItem::Customer { customer: Box::new(c.clone()) }).collect();
        self.apply_pull(&items, cursor)
    }

    /// Prepares an empty store for its bootstrap pull: the customer table's secondary indexes
    /// and FTS triggers are set aside (their definitions kept in `sync_state`), so a million
    /// rows go in without a million random index writes per index; [`Store::finish_bulk_load`]
    /// builds them again in one sorted pass. Returns false, doing nothing, unless the store holds
    /// no customer. Lookups still answer meanwhile (by scanning); if the process dies before
    /// the finish, the next [`Store::open`] finishes it.
    pub fn begin_bulk_load(&mut self) -> Result<bool> {
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let empty: bool = tx.query_row("SELECT NOT EXISTS (SELECT 1 FROM customers)", [], |r| r.get(0))?;
        if !empty || state_get(&tx, BULK_LOAD)?.is_some() {
            return Ok(false);
        }
        let set_aside: Vec<(String, String, String)> = tx
            .prepare(
                "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = 'customers' \
                 AND type IN ('index', 'trigger') AND sql IS NOT NULL",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (kind, name, _) in &set_aside {
            // Names come from the schema itself; quoting keeps them identifiers.
            tx.execute_batch(&format!("DROP {} \"{}\"", kind.to_uppercase(), name.replace('"', "\"\"")))?;
        }
        let definitions: Vec<&String> = set_aside.iter().map(|(_, _, sql)| sql).collect();
        state_set(&tx, BULK_LOAD, &serde_json::to_string(&definitions).expect("strings serialise"))?;
        tx.commit()?;
        Ok(true)
    }

    /// Rebuilds what [`Store::begin_bulk_load`] set aside, and the name index from the rows.
    /// Does nothing when no bulk load is under way.
    pub fn finish_bulk_load(&mut self) -> Result<()> {
        finish_bulk_load(&mut self.conn)
    }

    /// Records when the last successful sync finished.
    pub fn note_synced(&self, at: DateTime<Utc>) -> Result<()> {
        state_set(&self.conn, "last_sync_at", &at.to_rfc3339())
    }

    pub fn last_synced(&self) -> Result<Option<DateTime<Utc>>> {
        Ok(state_get(&self.conn, "last_sync_at")?
            .and_then(|s| DateTime::parse_from_rfc3339(&s).ok())
            .map(|t| t.with_timezone(&Utc)))
    }
}
