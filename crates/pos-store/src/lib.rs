//! The terminal's local customer store: one SQLite file holding customers, preferences, sales,
//! the outbox of changes waiting for the server, and the sync state.
//!
//! Every write and its outbox entry commit in one transaction, so a change is either stored and
//! queued or not made at all. The file runs in WAL mode with `synchronous=FULL`: a sale
//! acknowledged to the cashier survives a power cut, at the price of one fsync per write.

mod customers;
mod error;
mod lookup;
mod migrate;
mod outbox;
mod rows;
mod sales;
mod stats;
mod sync;
mod uploader;
mod users;

pub use customers::{FindOrCreate, PreferencesUpdate};
pub use error::{DuplicateKey, StoreError};
pub use lookup::{LookupHit, MatchedBy, Ordering, Page, SearchQuery};
pub use outbox::OutboxEntry;
pub use sales::{CurrencyTotal, SaleCustomer, SalesSummary};
pub use stats::{CountBy, DailyCount, Stats};
pub use sync::PushApplied;
pub use uploader::UploaderLock;
pub use users::KnownUser;

use chrono::{DateTime, SubsecRound, Utc};
use pos_core::hlc::node_of;
use pos_core::{Hlc, HlcClock};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use std::path::Path;
use uuid::Uuid;

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Who this terminal is: its device id (the HLC node), and once registered its organisation and
/// branch. Before registration both are nil and captured data is kept for later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub device_id: Uuid,
    pub organization_id: Uuid,
    pub branch_id: Option<Uuid>,
}

/// An open terminal store.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    identity: Identity,
    clock: HlcClock,
    lock_site: uploader::LockSite,
}

impl Store {
    /// Opens (creating if needed) the store at `path`, applying pending migrations.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // 64 MiB of page cache: the key indexes of a million customers stay in memory, which
        // keeps lookups and a bootstrap pull (random index inserts) off the disk.
        conn.pragma_update(None, "cache_size", -65_536)?;
        // A statement's own undo journal (an upsert firing the FTS triggers) stays in memory
        // rather than in a temporary file: it never outlives the statement.
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Lookup, capture and sync use a few dozen distinct statements; the default cache of 16
        // would re-prepare them on every keystroke.
        conn.set_prepared_statement_cache_capacity(128);
        // A bootstrap that stopped half-way gets its indexes back before anything else runs.
        let has_state: bool =
            conn.query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'sync_state')", [], |r| r.get(0))?;
        if has_state {
            sync::finish_bulk_load(&mut conn)?;
        }
        migrate::apply(&mut conn)?;

        let tx = conn.transaction()?;
        let device_id = match state_get(&tx, "device_id")? {
            Some(id) => rows::parse_uuid(&id)?,
            None => {
                let id = Uuid::now_v7();
                state_set(&tx, "device_id", &id.to_string())?;
                id
            }
        };
        let organization_id =
            state_get(&tx, "organization_id")?.map(|s| rows::parse_uuid(&s)).transpose()?.unwrap_or(Uuid::nil());
        let branch_id = state_get(&tx, "branch_id")?.map(|s| rows::parse_uuid(&s)).transpose()?;
        let last = state_get(&tx, "hlc")?
            .map(|s| s.parse::<Hlc>().map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()?
            .unwrap_or(Hlc::ZERO);
        tx.commit()?;

        let identity = Identity { device_id, organization_id, branch_id };
        let lock_site = uploader::LockSite::for_database(conn.path(), path);
        Ok(Self { conn, identity, clock: HlcClock::new(node_of(device_id), last), lock_site })
    }

    pub fn identity(&self) -> Identity {
        self.identity
    }

    /// Records the organisation and branch this terminal belongs to (after registration).
    /// Customers captured before registration are moved to the organisation.
    pub fn set_membership(&mut self, organization_id: Uuid, branch_id: Option<Uuid>) -> Result<()> {
        let tx = self.conn.transaction()?;
        state_set(&tx, "organization_id", &organization_id.to_string())?;
        match branch_id {
            Some(b) => state_set(&tx, "branch_id", &b.to_string())?,
            None => {
                tx.execute("DELETE FROM sync_state WHERE key = 'branch_id'", [])?;
            }
        }
        tx.execute(
            "UPDATE customers SET organization_id = ?1 WHERE organization_id = ?2",
            (organization_id.to_string(), Uuid::nil().to_string()),
        )?;
        tx.execute(
            "UPDATE sales SET organization_id = ?1 WHERE organization_id = ?2",
            (organization_id.to_string(), Uuid::nil().to_string()),
        )?;
        tx.commit()?;
        self.identity.organization_id = organization_id;
        self.identity.branch_id = branch_id;
        Ok(())
    }

    /// A sync-state value (pull cursor, last sync time, …) kept by the sync client.
    pub fn sync_value(&self, key: &str) -> Result<Option<String>> {
        state_get(&self.conn, key)
    }

    pub fn set_sync_value(&self, key: &str, value: &str) -> Result<()> {
        state_set(&self.conn, key, value)
    }

    /// Runs `f` in one transaction with a fresh HLC timestamp, persisting the clock with it, so a
    /// write, its outbox entry and the clock advance commit together or not at all.
    fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>, &WriteCtx) -> Result<T>) -> Result<T> {
        // Stored timestamps keep milliseconds; trimming here keeps memory and disk equal.
        let now = Utc::now().trunc_subsecs(3);
        let mut clock = self.clock.clone();
        let hlc = clock.tick(now.timestamp_millis().max(0) as u64);
        // IMMEDIATE: take the write lock before the reads that decide the write, so a second
        // connection (the sync worker) waits instead of failing the upgrade with SQLITE_BUSY.
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let ctx = WriteCtx { now, hlc, identity: self.identity };
        let out = f(&tx, &ctx)?;
        state_set(&tx, "hlc", &hlc.to_string())?;
        tx.commit()?;
        self.clock = clock;
        Ok(out)
    }
}

/// What every write in one transaction shares: the time, its HLC stamp and who writes.
#[derive(Debug, Clone, Copy)]
struct WriteCtx {
    now: DateTime<Utc>,
    hlc: Hlc,
    identity: Identity,
}

fn state_get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT value FROM sync_state WHERE key = ?1", [key], |r| r.get(0)).optional()?)
}

fn state_set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.execute(
        "INSERT INTO sync_state(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}
