//! Sync storage: a push batch is planned and written in one transaction under the
//! organisation's sequence row lock; a pull reads whole rows after a cursor.

use super::postgres::PgTx;
use super::rows::{
    customer_row, decode, parse, without_keys, StoredPreferences, Val, APPLIED_CHANGE_INSERT, CUSTOMER_INSERT,
    CUSTOMER_UPSERT, CUSTOMER_UPSERT_SAME_KEYS, MERGE_LOG_INSERT, PREFERENCES_UPSERT, REVIEW_ITEM_INSERT, SALE_INSERT,
};
use super::write_tx::{SelectIn, WriteTx};
use super::{ts, uuid_col, uuid_text, Backend, Db, DbError, DbResult, PushWriter};
use crate::plan::{plan, Plan, Snapshot};
use chrono::Utc;
use pos_core::field_clocks::CompactFields;
use pos_core::wire::{Change, ChangeBody, ChangeOutcome, ChangeResult, PullResponse, PulledItem, PushResponse};
use pos_core::{Customer, ErrorCode, HlcClock, KeyKind, Sale, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

const MAX_ATTEMPTS: usize = 8;

/// Who writes: a terminal pushing its outbox, or a signed-in user through the REST API. Its id
/// is the `device_id` the batch's changes carry; its label (`device:<id>`, `user:<id>`) is
/// recorded in the merge log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    Device(Uuid),
    User(Uuid),
}

impl Actor {
    pub fn id(self) -> Uuid {
        match self {
            Actor::Device(id) | Actor::User(id) => id,
        }
    }

    pub fn label(self) -> String {
        match self {
            Actor::Device(id) => format!("device:{id}"),
            Actor::User(id) => format!("user:{id}"),
        }
    }
}

/// Whether a new customer that matches an existing one is merged (sync, find-or-create) or
/// refused (a strict create).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteMode {
    Merge,
    Strict,
}

/// An organisation's sequence before and after a write.
#[derive(Debug, Clone, Copy)]
struct SequenceSpan {
    before: i64,
    after: i64,
}

impl SequenceSpan {
    /// Whether the sequence went past a power of two of at least `floor`.
    fn passed_power_of_two(self, floor: i64) -> bool {
        self.after >= floor && self.before.max(1).ilog2() < self.after.max(1).ilog2()
    }
}

/// "These two customers may be the same person."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub id: Uuid,
    pub customer_a: Uuid,
    pub customer_b: Uuid,
    /// The key field they share (`email`, `passport_number`, …).
    pub match_key: String,
    pub created_at: String,
}

/// Whether a failed transaction may succeed when run again (a concurrent writer won a race).
pub(super) fn is_retryable(e: &DbError) -> bool {
    match e {
        DbError::Sql(sqlx::Error::Database(db)) => {
            db.is_unique_violation() || matches!(db.code().as_deref(), Some("40001" | "40P01" | "5" | "6" | "517"))
        }
        DbError::Native(e) => super::native::is_retryable(e),
        _ => false,
    }
}

/// Whether storage refused a write for the data it was given (PostgreSQL's data exceptions and
/// integrity violations, SQLite's constraint, size and type errors) rather than for a race or
/// an outage: writing the same rows again fails the same way, so the change that carries them
/// must be answered instead of failing its whole batch on every retry.
pub(super) fn is_unstorable(e: &DbError) -> bool {
    if is_retryable(e) {
        return false;
    }
    match e {
        DbError::Sql(sqlx::Error::Database(db)) => match db.code() {
            // A PostgreSQL SQLSTATE: class 22 (data exception), 23 (integrity constraint).
            Some(code) if code.len() == 5 => code.starts_with("22") || code.starts_with("23"),
            // SQLite through sqlx: an extended result code, whose low byte is the primary one.
            Some(code) => code.parse::<i32>().is_ok_and(|c| is_unstorable_sqlite_code(c & 0xff)),
            None => false,
        },
        DbError::Native(rusqlite::Error::SqliteFailure(f, _)) => is_unstorable_sqlite_code(f.extended_code & 0xff),
        _ => false,
    }
}

/// SQLITE_TOOBIG, SQLITE_CONSTRAINT, SQLITE_MISMATCH.
fn is_unstorable_sqlite_code(primary: i32) -> bool {
    matches!(primary, 18..=20)
}

/// Locks the organisation's sequence row: locking it first serialises writers of one
/// organisation (on every instance), so sequence order is commit order and a pull never skips a
/// change that commits late.
pub(super) async fn lock_organization(tx: &mut impl WriteTx, org: Uuid) -> DbResult<()> {
    tx.advance_sequence(org, 0).await.map(drop)
}

/// The columns a snapshot reads of a customer.
const CUSTOMER_SELECT: &str = "SELECT id, data FROM customers";

/// Adds to `customers` those of `rows` (`CUSTOMER_SELECT`'s) it does not hold yet, and returns
/// how many it added. A customer found again by another key (most are: a returning customer's
/// phone, email and cédula all hit) is not parsed again.
fn add_customers(rows: Vec<Vec<String>>, customers: &mut HashMap<Uuid, Customer>) -> DbResult<usize> {
    let before = customers.len();
    for row in rows {
        let id = uuid_text(&row[0])?;
        if let std::collections::hash_map::Entry::Vacant(slot) = customers.entry(id) {
            slot.insert(parse(&row[1])?);
        }
    }
    Ok(customers.len() - before)
}

/// Loads every row the batch can touch (see [`Snapshot`]).
async fn load_snapshot(tx: &mut impl WriteTx, org: Uuid, changes: &[Change]) -> DbResult<Snapshot> {
    let mut snapshot = Snapshot::default();
    let mut ids: HashSet<String> = HashSet::with_capacity(changes.len());
    let mut keys: BTreeMap<KeyKind, HashSet<String>> = BTreeMap::new();
    let mut sale_ids = Vec::new();
    for change in changes {
        match &change.body {
            ChangeBody::Customer { id, fields } => {
                ids.insert(id.to_string());
                for kind in KeyKind::PRIORITY {
                    if let Some(serde_json::Value::String(v)) = fields.get(kind.field()).map(|s| &s.value) {
                        keys.entry(kind).or_default().insert(v.clone());
                    }
                }
            }
            ChangeBody::Preferences { customer_id, .. } => {
                ids.insert(customer_id.to_string());
            }
            ChangeBody::Sale { sale } => {
                ids.insert(sale.customer_id.to_string());
                sale_ids.push(sale.id.to_string());
            }
        }
    }
    // The lookups that depend on nothing read yet, at once: the applied changes and sales, the
    // customers by id and by each key.
    let change_ids = changes.iter().map(|c| c.change_id.to_string()).collect();
    let mut selects = vec![
        SelectIn { select: "SELECT change_id, outcome FROM applied_changes", column: "change_id", values: change_ids },
        SelectIn { select: "SELECT id FROM sales", column: "id", values: sale_ids },
        SelectIn { select: CUSTOMER_SELECT, column: "id", values: ids.into_iter().collect() },
    ];
    for (kind, values) in keys {
        selects.push(SelectIn { select: CUSTOMER_SELECT, column: kind.field(), values: values.into_iter().collect() });
    }
    let mut answers = tx.select_in_each(org, &selects).await?.into_iter();
    for row in answers.next().expect("applied changes") {
        snapshot.applied.insert(uuid_text(&row[0])?, parse(&row[1])?);
    }
    for row in answers.next().expect("sales") {
        snapshot.sale_ids.insert(uuid_text(&row[0])?);
    }
    let customers = &mut snapshot.customers;
    for rows in answers {
        add_customers(rows, customers)?;
    }
    // Follow merge chains to their survivors.
    loop {
        let missing: Vec<String> = customers
            .values()
            .filter_map(|c| c.merged_into)
            .filter(|t| !customers.contains_key(t))
            .map(|t| t.to_string())
            .collect();
        if missing.is_empty()
            || add_customers(tx.select_in(org, CUSTOMER_SELECT, "id", &missing).await?, customers)? == 0
        {
            break;
        }
    }
    let customer_ids: Vec<String> = snapshot.customers.keys().map(Uuid::to_string).collect();
    let select = "SELECT customer_id, data FROM customer_preferences";
    for row in tx.select_in(org, select, "customer_id", &customer_ids).await? {
        let stored: StoredPreferences = parse(&row[1])?;
        snapshot.preferences.insert(uuid_text(&row[0])?, (stored.preferences, stored.clocks));
    }
    Ok(snapshot)
}

/// When a push's steps ended, from its start.
struct PushTimings {
    loaded: Duration,
    planned: Duration,
    written: Duration,
}

/// One attempt at a push inside `tx`, short of the commit: load, plan, write.
async fn push_in(
    started: Instant,
    tx: &mut impl WriteTx,
    org: Uuid,
    actor: Actor,
    changes: &[Change],
    clock: &Mutex<HlcClock>,
    mode: WriteMode,
) -> DbResult<(PushResponse, SequenceSpan, PushTimings)> {
    lock_organization(tx, org).await?;
    let snapshot = load_snapshot(tx, org, changes).await?;
    let loaded = started.elapsed();
    let plan = {
        let mut clock = clock.lock().expect("clock lock");
        plan(org, actor.id(), changes, snapshot, &mut clock, Utc::now())
    };
    if mode == WriteMode::Strict {
        if let Some(target) = plan.results.iter().find_map(|r| match r.outcome {
            ChangeOutcome::MergedInto { target } => Some(target),
            _ => None,
        }) {
            return Err(DbError::Duplicate { existing: target });
        }
    }
    let planned = started.elapsed();
    let sequence = write_plan(tx, org, &actor.label(), &plan).await?;
    let timings = PushTimings { loaded, planned, written: started.elapsed() };
    Ok((PushResponse { results: plan.results }, sequence, timings))
}

/// Records `change` as rejected for storage's sake, inside `tx`, and returns its answer: the one
/// already recorded, if another attempt got there first.
async fn record_unstorable(tx: &mut impl WriteTx, org: Uuid, actor: Actor, change: &Change) -> DbResult<ChangeOutcome> {
    lock_organization(tx, org).await?;
    let snapshot = load_snapshot(tx, org, std::slice::from_ref(change)).await?;
    if let Some(answered) = snapshot.applied.get(&change.change_id) {
        return Ok(answered.clone());
    }
    let outcome = ChangeOutcome::Rejected { errors: ValidationErrors::one("change", ErrorCode::Unstorable) };
    let plan = Plan { applied: vec![(change.change_id, outcome.clone())], ..Plan::default() };
    write_plan(tx, org, &actor.label(), &plan).await?;
    Ok(outcome)
}

/// Writes `plan` and returns the organisation's sequence before and after it.
async fn write_plan(tx: &mut impl WriteTx, org: Uuid, actor: &str, plan: &Plan) -> DbResult<SequenceSpan> {
    let rows = (plan.customers.len() + plan.preferences.len() + plan.sales.len()) as i64;
    let top = tx.advance_sequence(org, rows).await?;
    let span = SequenceSpan { before: top - rows, after: top };
    let mut seq = top - rows;
    let mut next_seq = || {
        seq += 1;
        Val::Int(seq)
    };
    let org_text = || Val::Text(Some(org.to_string()));
    let now = ts(&Utc::now());

    // Tombstones first: they release keys before survivors take them. In each group, rows stored
    // before whose keys changed go first (an edit may release a key too), then the other stored
    // rows, as upserts; new rows are plain inserts.
    let (tombstones, live): (Vec<&Customer>, Vec<&Customer>) =
        plan.customers.iter().partition(|c| c.merged_into.is_some());
    for group in [tombstones, live] {
        let (new, stored): (Vec<&Customer>, Vec<&Customer>) =
            group.into_iter().partition(|c| plan.created.contains(&c.id));
        let (rekeyed, same_keys): (Vec<&Customer>, Vec<&Customer>) =
            stored.into_iter().partition(|c| plan.rekeyed.contains(&c.id));
        let mut row_of = |c: &&Customer| customer_row(org_text(), next_seq(), c);
        let rekeyed: Vec<Vec<Val>> = rekeyed.iter().map(&mut row_of).collect();
        if rekeyed.len() > 1 {
            // They may hand keys to one another, and a row can come before the one it takes a
            // key from: first every one lets its keys go, then each takes its new ones.
            tx.insert_rows(CUSTOMER_UPSERT, Box::new(rekeyed.iter().map(|row| without_keys(row)))).await?;
        }
        tx.insert_rows(CUSTOMER_UPSERT, Box::new(rekeyed.into_iter())).await?;
        tx.insert_rows(CUSTOMER_UPSERT_SAME_KEYS, Box::new(same_keys.iter().map(&mut row_of))).await?;
        tx.insert_rows(CUSTOMER_INSERT, Box::new(new.iter().map(&mut row_of))).await?;
    }
    let rows = plan.preferences.iter().map(|(customer_id, preferences, clocks)| {
        let data =
            serde_json::to_string(&StoredPreferences { preferences: preferences.clone(), clocks: clocks.clone() })
                .expect("preferences serialise");
        vec![org_text(), Val::text(customer_id), next_seq(), Val::Text(Some(data))]
    });
    tx.insert_rows(PREFERENCES_UPSERT, Box::new(rows)).await?;
    let rows = plan.sales.iter().map(|sale| {
        let data = serde_json::to_string(sale).expect("sales serialise");
        vec![
            org_text(),
            Val::text(sale.id),
            next_seq(),
            Val::text(sale.customer_id),
            Val::Text(Some(ts(&sale.sold_at))),
            Val::Text(Some(data)),
        ]
    });
    tx.insert_rows(SALE_INSERT, Box::new(rows)).await?;
    let rows = plan.applied.iter().map(|(change_id, outcome)| {
        let outcome = serde_json::to_string(outcome).expect("outcomes serialise");
        vec![
            org_text(),
            Val::text(change_id),
            Val::text(actor.split_once(':').map_or(actor, |(_, id)| id)),
            Val::Text(Some(outcome)),
            Val::Text(Some(now.clone())),
        ]
    });
    tx.insert_rows(APPLIED_CHANGE_INSERT, Box::new(rows)).await?;
    let rows = plan.reviews.iter().map(|r| {
        let key = Val::Text(Some(r.key.field().to_owned()));
        vec![
            org_text(),
            Val::text(Uuid::now_v7()),
            Val::text(r.customer_a),
            Val::text(r.customer_b),
            key,
            Val::Text(Some(now.clone())),
        ]
    });
    tx.insert_rows(REVIEW_ITEM_INSERT, Box::new(rows)).await?;
    let rows = plan.merges.iter().map(|m| {
        let data = serde_json::to_string(&CompactFields::from(&m.data)).expect("fields serialise");
        vec![
            org_text(),
            Val::text(Uuid::now_v7()),
            Val::text(m.target_id),
            Val::text(m.source_id),
            Val::text(m.change_id),
            Val::Text(Some(data)),
            Val::Text(Some(now.clone())),
            Val::text(actor),
        ]
    });
    tx.insert_rows(MERGE_LOG_INSERT, Box::new(rows)).await?;
    Ok(span)
}

/// Inserts `customers` as new rows with the organisation's next sequence numbers, and returns
/// the sequence before and after them.
async fn insert_customers(tx: &mut impl WriteTx, org: Uuid, customers: &[Customer]) -> DbResult<SequenceSpan> {
    let top = tx.advance_sequence(org, customers.len() as i64).await?;
    let first = top - customers.len() as i64;
    let rows = customers
        .iter()
        .zip(first + 1..)
        .map(|(c, seq)| customer_row(Val::Text(Some(org.to_string())), Val::Int(seq), c));
    tx.insert_rows(CUSTOMER_INSERT, Box::new(rows)).await?;
    Ok(SequenceSpan { before: first, after: top })
}

impl Db {
    /// Applies a pushed batch exactly once per change id and answers each change. The whole
    /// batch commits or nothing does; a transaction that lost a race to another instance is
    /// retried from scratch.
    pub async fn push(
        &self,
        org: Uuid,
        device: Uuid,
        changes: Vec<Change>,
        clock: &Arc<Mutex<HlcClock>>,
    ) -> DbResult<PushResponse> {
        self.write_changes(org, Actor::Device(device), changes, clock, WriteMode::Merge).await
    }

    /// The one write path for customers, preferences and sales: a terminal's push, or a REST
    /// write built as changes by `actor`. In [`WriteMode::Strict`] a change that would merge
    /// into an existing customer rolls the whole batch back with [`DbError::Duplicate`].
    pub async fn write_changes(
        &self,
        org: Uuid,
        actor: Actor,
        changes: Vec<Change>,
        clock: &Arc<Mutex<HlcClock>>,
        mode: WriteMode,
    ) -> DbResult<PushResponse> {
        self.write_isolating(org, actor, changes.into(), clock, mode).await
    }

    /// Writes `changes` in one transaction; when storage refuses them for their data
    /// ([`is_unstorable`]), writes each half in its own transaction, recursively, down to the
    /// change storage cannot hold, which is answered `Rejected` (`change`: `unstorable`) and
    /// recorded like any answer, so a replay gets it again. The rest of the batch applies, in
    /// order. One bad change never turns a push into an error a terminal would retry forever.
    fn write_isolating<'a>(
        &'a self,
        org: Uuid,
        actor: Actor,
        changes: Arc<[Change]>,
        clock: &'a Arc<Mutex<HlcClock>>,
        mode: WriteMode,
    ) -> Pin<Box<dyn Future<Output = DbResult<PushResponse>> + Send + 'a>> {
        Box::pin(async move {
            let refused = match self.write_retrying(org, actor, &changes, clock, mode).await {
                Err(e) if is_unstorable(&e) => e,
                other => return other,
            };
            if let [change] = &changes[..] {
                // The reason stays in the log: the terminal learns only that it was refused.
                tracing::error!(%org, change_id = %change.change_id, error = %refused, "storage refused a change");
                return self.reject_unstorable(org, actor, change).await;
            }
            tracing::warn!(%org, changes = changes.len(), error = %refused, "storage refused a batch; splitting it");
            let (first, second) = changes.split_at(changes.len() / 2);
            let mut answer = self.write_isolating(org, actor, first.into(), clock, mode).await?;
            answer.results.extend(self.write_isolating(org, actor, second.into(), clock, mode).await?.results);
            Ok(answer)
        })
    }

    /// Writes `changes` in one transaction, again from scratch while it loses races.
    async fn write_retrying(
        &self,
        org: Uuid,
        actor: Actor,
        changes: &Arc<[Change]>,
        clock: &Arc<Mutex<HlcClock>>,
        mode: WriteMode,
    ) -> DbResult<PushResponse> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.try_push(org, actor, changes, clock, mode).await {
                Err(e) if attempt < MAX_ATTEMPTS && is_retryable(&e) => {
                    tracing::debug!(attempt, error = %e, "push lost a race, retrying");
                    tokio::time::sleep(std::time::Duration::from_millis(5 * attempt as u64)).await;
                }
                other => return other,
            }
        }
    }

    /// Answers `change` rejected as unstorable and records that answer (unless an earlier
    /// attempt already answered it, which stands).
    async fn reject_unstorable(&self, org: Uuid, actor: Actor, change: &Change) -> DbResult<PushResponse> {
        let change = change.clone();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let recorded = match &self.writer {
                PushWriter::Sqlite(writer) => {
                    let change = change.clone();
                    writer.write(async move |tx| record_unstorable(tx, org, actor, &change).await).await
                }
                PushWriter::Postgres(pool) => {
                    async {
                        let mut tx = PgTx::begin(pool).await?;
                        let outcome = record_unstorable(&mut tx, org, actor, &change).await?;
                        tx.commit().await?;
                        Ok(outcome)
                    }
                    .await
                }
            };
            match recorded {
                Err(e) if attempt < MAX_ATTEMPTS && is_retryable(&e) => {
                    tokio::time::sleep(std::time::Duration::from_millis(5 * attempt as u64)).await;
                }
                other => {
                    let outcome = other?;
                    return Ok(PushResponse { results: vec![ChangeResult { change_id: change.change_id, outcome }] });
                }
            }
        }
    }

    async fn try_push(
        &self,
        org: Uuid,
        actor: Actor,
        changes: &Arc<[Change]>,
        clock: &Arc<Mutex<HlcClock>>,
        mode: WriteMode,
    ) -> DbResult<PushResponse> {
        let started = Instant::now();
        let (response, sequence, timings) = match &self.writer {
            PushWriter::Sqlite(writer) => {
                let (changes, clock) = (changes.clone(), clock.clone());
                writer.write(async move |tx| push_in(started, tx, org, actor, &changes, &clock, mode).await).await?
            }
            PushWriter::Postgres(pool) => {
                let mut tx = PgTx::begin(pool).await?;
                let pushed = push_in(started, &mut tx, org, actor, changes, clock, mode).await?;
                tx.commit().await?;
                pushed
            }
        };
        let committed = started.elapsed();
        self.refresh_statistics_if_grown(sequence);
        // Where a push's time goes (`RUST_LOG=sync_server::db=debug`; the merge bench sums it).
        let PushTimings { loaded, planned, written } = timings;
        tracing::debug!(
            target: "sync_server::db::push",
            changes = changes.len(),
            load_ms = loaded.as_millis() as u64,
            plan_ms = (planned - loaded).as_millis() as u64,
            write_ms = (written - planned).as_millis() as u64,
            commit_ms = (committed - written).as_millis() as u64,
            "push written"
        );
        Ok(response)
    }

    /// On PostgreSQL, refreshes the planner's statistics in the background when a push has
    /// taken the organisation's sequence past a power of two from 4,096 on. The planner
    /// estimates an organisation it has no statistics for at a handful of rows, so it plans a
    /// push's key lookups (`phone IN (…)`) as a scan of the organisation through its sequence
    /// index; while a new organisation grows faster than autovacuum samples it (a chain going
    /// live), every push reads the whole organisation again (measured on 100,000 changes: 41 s
    /// of 60 s spent loading; 5 s with fresh statistics). Doubling keeps it to a few dozen
    /// `ANALYZE`s over an organisation's life.
    fn refresh_statistics_if_grown(&self, sequence: SequenceSpan) {
        if self.backend() != Backend::Postgres || !sequence.passed_power_of_two(4_096) {
            return;
        }
        let pool = self.pool.clone();
        tokio::spawn(async move {
            let analyze = "ANALYZE customers, customer_preferences, sales, applied_changes";
            if let Err(e) = sqlx::raw_sql(analyze).execute(&pool).await {
                tracing::warn!(error = %e, "refreshing planner statistics failed");
            }
        });
    }

    /// A plain batched INSERT of customer rows in one transaction, without the merge, through the
    /// push's writer: the baseline the merge benchmark compares with, and its way to seed a large
    /// organisation. The rows take the organisation's next sequence numbers, so a terminal can
    /// pull them.
    #[doc(hidden)]
    pub async fn plain_insert_customers(&self, org: Uuid, customers: Vec<Customer>) -> DbResult<()> {
        let sequence = match &self.writer {
            PushWriter::Sqlite(writer) => {
                writer.write(async move |tx| insert_customers(tx, org, &customers).await).await?
            }
            PushWriter::Postgres(pool) => {
                let mut tx = PgTx::begin(pool).await?;
                let sequence = insert_customers(&mut tx, org, &customers).await?;
                tx.commit().await?;
                sequence
            }
        };
        // An organisation seeded this way is then merged into: it needs statistics as much.
        self.refresh_statistics_if_grown(sequence);
        Ok(())
    }

    /// Up to `limit` changed rows after `cursor`, oldest first. The three tables are read in one
    /// snapshot, so the page never holds a later change without the earlier ones.
    pub async fn pull(&self, org: Uuid, cursor: i64, limit: i64) -> DbResult<PullResponse> {
        let limit = limit.clamp(1, pos_core::wire::MAX_PULL_PAGE);
        let mut tx = self.pool.begin().await?;
        if self.backend() == Backend::Postgres {
            sqlx::raw_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY").execute(&mut *tx).await?;
        }
        let mut items: Vec<(i64, PulledItem)> = Vec::new();
        let mut some_table_full = false;
        for table in ["customers", "customer_preferences", "sales"] {
            let id_col = if table == "customer_preferences" { "customer_id" } else { "id" };
            let sql = self.sql(&format!("SELECT seq, {id_col} AS entity_id, data FROM {table} WHERE organization_id = $1 AND seq > $2 ORDER BY seq LIMIT {limit}"));
            let rows = sqlx::query(sql).bind(org.to_string()).bind(cursor).fetch_all(&mut *tx).await?;
            some_table_full |= rows.len() as i64 == limit;
            for row in rows {
                let seq: i64 = row.try_get("seq")?;
                let item = match table {
                    "customers" => PulledItem::Customer { customer: Box::new(decode(&row)?) },
                    "sales" => PulledItem::Sale { sale: decode::<Sale>(&row)? },
                    _ => {
                        let stored: StoredPreferences = decode(&row)?;
                        PulledItem::Preferences {
                            customer_id: uuid_col(&row, "entity_id")?,
                            preferences: stored.preferences,
                            clocks: stored.clocks,
                        }
                    }
                };
                items.push((seq, item));
            }
        }
        tx.commit().await?;
        items.sort_by_key(|(seq, _)| *seq);
        let has_more = some_table_full || items.len() as i64 > limit;
        items.truncate(limit as usize);
        let next = items.last().map_or(cursor, |(seq, _)| *seq);
        Ok(PullResponse { items: items.into_iter().map(|(_, item)| item).collect(), cursor: next, has_more })
    }

    /// Open review items of an organisation, oldest first.
    pub async fn open_review_items(&self, org: Uuid) -> DbResult<Vec<ReviewItem>> {
        let rows = sqlx::query(self.sql("SELECT id, customer_a, customer_b, match_key, created_at FROM review_items WHERE organization_id = $1 AND status = 'open' ORDER BY created_at, id"))
            .bind(org.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(ReviewItem {
                    id: uuid_col(r, "id")?,
                    customer_a: uuid_col(r, "customer_a")?,
                    customer_b: uuid_col(r, "customer_b")?,
                    match_key: r.try_get("match_key")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// The backend in use, for logs and health.
    pub fn backend_name(&self) -> &'static str {
        match self.backend() {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SequenceSpan;

    #[test]
    fn statistics_are_refreshed_when_an_organisation_doubles_from_4096() {
        let passed = |before, after| SequenceSpan { before, after }.passed_power_of_two(4_096);
        assert!(!passed(0, 4_095), "too small to matter");
        assert!(passed(0, 4_096));
        assert!(passed(4_000, 5_000));
        assert!(!passed(4_096, 8_191), "same power of two");
        assert!(passed(8_000, 8_192));
        assert!(passed(10_000, 40_000), "two at once is one refresh");
        assert!(!passed(600_000, 1_000_000));
        assert!(passed(1_000_000, 1_048_576));
    }
}
