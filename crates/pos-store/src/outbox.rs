//! The outbox: local changes in the order they were made, kept until the server acknowledges
//! them. A change the server rejects is set aside (state `rejected`) so the queue moves on.

use crate::rows::{get_json, get_ts, ts};
use crate::{Result, Store, WriteCtx};
use chrono::{DateTime, Utc};
use pos_core::customer::MERGED_FIELDS;
use pos_core::wire::{Change, ChangeBody};
use rusqlite::Connection;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// One queued change.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxEntry {
    pub seq: i64,
    pub change: Change,
    pub created_at: DateTime<Utc>,
    pub attempts: u32,
    /// The server's field errors, for a rejected change.
    pub rejection: Option<serde_json::Value>,
}

/// Queues `body` as a new change, inside the caller's transaction.
pub(crate) fn enqueue(conn: &Connection, ctx: &WriteCtx, body: ChangeBody) -> Result<Uuid> {
    let change = Change { change_id: Uuid::now_v7(), device_id: ctx.identity.device_id, body };
    conn.prepare_cached(
        "INSERT INTO outbox (change_id, entity, entity_id, payload, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute((
        change.change_id.to_string(),
        change.body.entity(),
        change.body.entity_id().to_string(),
        serde_json::to_string(&change).expect("changes serialise"),
        ts(&ctx.now),
    ))?;
    Ok(change.change_id)
}

fn entries(conn: &Connection, state: &str, limit: u32) -> Result<Vec<OutboxEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, payload, created_at, attempts, rejection FROM outbox WHERE state = ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = stmt.query_map((state, limit), |r| {
        Ok(OutboxEntry {
            seq: r.get(0)?,
            change: get_json(r, 1)?,
            created_at: get_ts(r, 2)?,
            attempts: r.get(3)?,
            rejection: r.get::<_, Option<String>>(4)?.and_then(|s| serde_json::from_str(&s).ok()),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Store {
    /// The oldest pending changes, in order, at most `limit`.
    pub fn pending_changes(&self, limit: u32) -> Result<Vec<OutboxEntry>> {
        entries(&self.conn, "pending", limit)
    }

    /// Changes the server rejected, waiting for a person to fix or discard them.
    pub fn rejected_changes(&self) -> Result<Vec<OutboxEntry>> {
        entries(&self.conn, "rejected", u32::MAX)
    }

    pub fn pending_count(&self) -> Result<u64> {
        Ok(self.conn.query_row("SELECT count(*) FROM outbox WHERE state = 'pending'", [], |r| r.get(0))?)
    }

    pub fn rejected_count(&self) -> Result<u64> {
        Ok(self.conn.query_row("SELECT count(*) FROM outbox WHERE state = 'rejected'", [], |r| r.get(0))?)
    }

    /// Whether the rejected customer change `change_id` carried the whole record — a capture (or
    /// an earlier fix of one) rather than an edit of some fields. `None` when there is no such
    /// rejected change. Who may fix it depends on this: the capturer, or only an editor.
    pub fn rejected_change_is_capture(&self, change_id: Uuid) -> Result<Option<bool>> {
        use rusqlite::OptionalExtension;
        let change: Option<Change> = self
            .conn
            .query_row(
                "SELECT payload FROM outbox WHERE change_id = ?1 AND state = 'rejected' AND entity = 'customer'",
                [change_id.to_string()],
                |r| get_json(r, 0),
            )
            .optional()?;
        Ok(change.map(|c| match c.body {
            ChangeBody::Customer { fields, .. } => MERGED_FIELDS.iter().all(|f| fields.contains_key(*f)),
            _ => false,
        }))
    }

    /// Removes a rejected change a person chose to discard. Pending changes cannot be discarded.
    pub fn discard_rejected(&mut self, change_id: Uuid) -> Result<bool> {
        drop_rejected(&self.conn, change_id)
    }
}

/// Deletes a rejected change; pending ones stay.
pub(crate) fn drop_rejected(conn: &Connection, change_id: Uuid) -> Result<bool> {
    Ok(conn.execute("DELETE FROM outbox WHERE change_id = ?1 AND state = 'rejected'", [change_id.to_string()])? == 1)
}

/// The record a rejected change of kind `entity` is about.
pub(crate) fn rejected_entity(conn: &Connection, change_id: Uuid, entity: &str) -> Result<Option<Uuid>> {
    use rusqlite::OptionalExtension;
    conn.query_row(
        "SELECT entity_id FROM outbox WHERE change_id = ?1 AND state = 'rejected' AND entity = ?2",
        (change_id.to_string(), entity),
        |r| crate::rows::get_uuid(r, 0),
    )
    .optional()
    .map_err(Into::into)
}

/// The fields each record has in changes the server has not acknowledged (pending or
/// rejected): a pulled row keeps this terminal's version of these alone.
#[derive(Debug, Default)]
pub(crate) struct Unacknowledged {
    pub customers: HashMap<Uuid, HashSet<String>>,
    pub preferences: HashMap<Uuid, HashSet<String>>,
}

impl Unacknowledged {
    pub fn customer(&self, id: Uuid) -> impl Fn(&str) -> bool + '_ {
        let fields = self.customers.get(&id);
        move |f| fields.is_some_and(|set| set.contains(f))
    }

    pub fn preferences(&self, id: Uuid) -> impl Fn(&str) -> bool + '_ {
        let fields = self.preferences.get(&id);
        move |f| fields.is_some_and(|set| set.contains(f))
    }
}

/// Reads [`Unacknowledged`] from the outbox (nothing to read after a round that pushed it all,
/// and on a bootstrap).
pub(crate) fn unacknowledged(conn: &Connection) -> Result<Unacknowledged> {
    let mut out = Unacknowledged::default();
    let mut stmt =
        conn.prepare_cached("SELECT payload FROM outbox WHERE entity IN ('customer', 'preferences', 'sale')")?;
    let changes = stmt.query_map([], |r| get_json::<Change>(r, 0))?;
    for change in changes {
        match change?.body {
            ChangeBody::Customer { id, fields } => out.customers.entry(id).or_default().extend(fields.into_keys()),
            ChangeBody::Preferences { customer_id, fields } => {
                out.preferences.entry(customer_id).or_default().extend(fields.into_keys())
            }
            // Recording a sale moved the customer's last activity here.
            ChangeBody::Sale { sale } => {
                out.customers.entry(sale.customer_id).or_default().insert("last_activity".to_owned());
            }
        }
    }
    Ok(out)
}
