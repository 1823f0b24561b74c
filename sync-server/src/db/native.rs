//! SQLite's writer for the merge: one rusqlite connection to the server's database file, used on
//! a blocking thread. SQLite takes one writer at a time anyway; going through rusqlite instead of
//! sqlx's `Any` driver (which converts every value and sends it and every row through a channel
//! to its worker thread) halved the write step of a push. A push's snapshot is read through it
//! too, in the same transaction, with a second connection taking half of its lookups at once;
//! everything else stays on sqlx, taking the same turn to write.

use super::rows::{Insert, Val, IN_LIST_LEN};
use super::write_tx::{halves, in_select_order, worth_splitting, Answers, Rows, SelectIn, WriteTx, ADVANCE_SEQUENCE};
use super::{DbError, DbResult};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OptionalExtension, ToSql, TransactionBehavior};
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use uuid::Uuid;

/// The settings every connection to the server's SQLite file uses (sqlx's pool too). A new
/// database gets 16 KiB pages (the page size is fixed when the file is created, so it comes
/// first; an existing file keeps its own): shallower trees, and a commit writes its dirty pages
/// to the WAL in a quarter as many frames. FULL: an acknowledged push survives a power cut (the
/// terminal drops its copy). A 64 MiB cache keeps the key indexes' pages in memory;
/// checkpointing every 16,384 pages of WAL (256 MiB at 16 KiB) copies a page hit by many pushes
/// back once, not once per push, and syncs the database file a quarter as often; the statement
/// journal of a multi-row INSERT (only ever needed to undo that statement) stays in memory.
/// docs/performance.md has the figures.
pub(super) const SQLITE_PRAGMAS: &str = "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
     PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 16384; PRAGMA temp_store = MEMORY;";

/// The connection that writes pushes, and the turn every writer of this server takes on SQLite.
#[derive(Debug)]
pub(super) struct NativeWriter {
    conn: Mutex<Connection>,
    /// Reads the half of a push's snapshot lookups the writer's connection does not, at the same
    /// time (`select_in_each`). It sees what the writer sees: the writer holds the write lock and
    /// has written nothing yet, so nothing can commit in between.
    reader: Mutex<Connection>,
    /// Writers are served in arrival order (tokio's mutex is FIFO) instead of racing for
    /// SQLite's one write lock: a queued push takes it again within microseconds of the last
    /// commit, where sqlx's writers retry it every 100 ms through `busy_timeout`, so under a
    /// stream of pushes they would wait until the stream ends, or time out.
    turn: Arc<tokio::sync::Mutex<()>>,
}

/// A write transaction on the [`NativeWriter`], with its reader.
pub(super) struct NativeTx<'c> {
    tx: rusqlite::Transaction<'c>,
    reader: &'c mut Connection,
}

/// Holding it, a writer is the only one of this server writing to SQLite.
pub(super) type WriteTurn = tokio::sync::OwnedMutexGuard<()>;

impl NativeWriter {
    pub(super) fn open(path: &Path) -> DbResult<NativeWriter> {
        let open = || -> DbResult<Connection> {
            let conn = Connection::open(path)?;
            conn.execute_batch(SQLITE_PRAGMAS)?;
            // IN lists are padded to a power of two (see `select_in`): a dozen shapes a statement.
            conn.set_prepared_statement_cache_capacity(64);
            Ok(conn)
        };
        let reader = open()?;
        reader.execute_batch("PRAGMA query_only = ON")?;
        Ok(NativeWriter { conn: Mutex::new(open()?), reader: Mutex::new(reader), turn: Arc::default() })
    }

    /// Waits for this server's turn to write (see [`NativeWriter::turn`]'s field).
    pub(super) async fn turn(&self) -> WriteTurn {
        self.turn.clone().lock_owned().await
    }

    /// Runs `write` on a blocking thread, in its turn, in a transaction that holds SQLite's
    /// write lock from its start, and commits it when `write` succeeds (an error rolls
    /// everything back). `write` must not wait on anything but the [`NativeTx`], whose
    /// statements are synchronous. Dropping the returned future (the client went away, the
    /// request timed out) abandons the write: it is not started, or is rolled back instead of
    /// committed (a write past that last check commits; replays of it change nothing).
    pub(super) async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        write: impl AsyncFnOnce(&mut NativeTx<'_>) -> DbResult<T> + Send + 'static,
    ) -> DbResult<T> {
        let turn = self.turn().await;
        let writer = self.clone();
        let abandonment = Abandonment(Arc::new(AtomicBool::new(false)));
        let abandoned = abandonment.0.clone();
        let task = tokio::task::spawn_blocking(move || {
            let _turn = turn;
            writer.write_now(&abandoned, write)
        });
        match task.await {
            Ok(out) => out,
            Err(e) => match e.try_into_panic() {
                Ok(panic) => std::panic::resume_unwind(panic),
                Err(_) => Err(DbError::Abandoned), // the runtime is shutting down
            },
        }
    }

    fn write_now<T>(
        &self,
        abandoned: &AtomicBool,
        write: impl AsyncFnOnce(&mut NativeTx<'_>) -> DbResult<T>,
    ) -> DbResult<T> {
        let is_abandoned = || abandoned.load(Ordering::Acquire);
        let mut conn = self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut reader = self.reader.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if is_abandoned() {
            return Err(DbError::Abandoned);
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut tx = NativeTx { tx, reader: &mut reader };
        if is_abandoned() {
            return Err(DbError::Abandoned);
        }
        let out = run_ready(write(&mut tx))?;
        if is_abandoned() {
            return Err(DbError::Abandoned);
        }
        tx.tx.commit()?;
        Ok(out)
    }
}

/// Sets its flag when dropped, i.e. when the future waiting for a native write is.
struct Abandonment(Arc<AtomicBool>);

impl Drop for Abandonment {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// The outcome of a future that never waits: the merge's steps on a [`NativeTx`] are written
/// once as async code for both drivers, and on this one every statement completes at once.
fn run_ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => unreachable!("a native SQLite write waited on something other than SQLite"),
    }
}

impl ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            Val::Text(Some(text)) => ToSqlOutput::Borrowed(ValueRef::Text(text.as_bytes())),
            Val::Text(None) => ToSqlOutput::Borrowed(ValueRef::Null),
            Val::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
        })
    }
}

impl WriteTx for NativeTx<'_> {
    async fn advance_sequence(&mut self, org: Uuid, n: i64) -> DbResult<i64> {
        let mut statement = self.tx.prepare_cached(&ADVANCE_SEQUENCE.replace('$', "?"))?;
        let seq = statement.query_row((n, org.to_string()), |row| row.get(0)).optional()?;
        seq.ok_or(DbError::NoOrganization(org))
    }

    async fn select_in(
        &mut self,
        org: Uuid,
        select: &str,
        column: &str,
        values: &[String],
    ) -> DbResult<Vec<Vec<String>>> {
        select_in(&self.tx, &org.to_string(), select, column, values)
    }

    /// Split in two ([`halves`]): the reader runs one half on a thread of its own while the
    /// writer runs the other (a push's lookups were a fifth of its time, one core idle).
    async fn select_in_each(&mut self, org: Uuid, selects: &[SelectIn<'_>]) -> DbResult<Answers> {
        let org = org.to_string();
        let run = |conn: &Connection, half: &[usize]| -> DbResult<Answers> {
            half.iter().map(|&i| &selects[i]).map(|s| select_in(conn, &org, s.select, s.column, &s.values)).collect()
        };
        if !worth_splitting(selects) {
            return run(&self.tx, &(0..selects.len()).collect::<Vec<_>>());
        }
        let halves = halves(selects);
        let reader = &mut *self.reader;
        let answers = std::thread::scope(|scope| {
            let (run, theirs) = (&run, &halves[1]);
            let theirs = scope.spawn(move || run(reader, theirs));
            let mine = run(&self.tx, &halves[0]);
            (mine, theirs.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        });
        Ok(in_select_order(&halves, [answers.0?, answers.1?]))
    }

    /// One prepared single-row statement run per row: with no round trips to save, that is
    /// SQLite's fastest way in (no statement of thousands of parameters to parse). Hundreds of
    /// rows are built on a thread of their own, a batch at a time, while this one inserts the
    /// batch before: serialising records was a third of the write step, one core idle.
    async fn insert_rows(&mut self, insert: Insert, rows: Rows<'_>) -> DbResult<()> {
        let Insert { table, columns, on_conflict } = insert;
        let list = vec!["?"; columns.len()].join(", ");
        let sql = format!("INSERT INTO {table} ({}) VALUES ({list}) {on_conflict}", columns.join(", "));
        let mut statement = self.tx.prepare_cached(&sql)?;
        let mut insert = |row: &Vec<Val>| statement.execute(rusqlite::params_from_iter(row)).map(drop);
        if rows.size_hint().0 < ROWS_BUILT_ASIDE_FROM {
            return Ok(rows.into_iter().try_for_each(|row| insert(&row))?);
        }
        std::thread::scope(|scope| {
            let (batches, built) = std::sync::mpsc::sync_channel::<Vec<Vec<Val>>>(2);
            scope.spawn(move || {
                let mut rows = rows;
                loop {
                    let batch: Vec<Vec<Val>> = rows.by_ref().take(ROWS_PER_BATCH).collect();
                    // The inserting side hangs up when an insert fails.
                    if batch.is_empty() || batches.send(batch).is_err() {
                        break;
                    }
                }
            });
            // An early return drops `built`, which stops the builder.
            for batch in built {
                batch.iter().try_for_each(&mut insert)?;
            }
            Ok(())
        })
    }
}

/// From this many rows an insert has them built on another thread…
const ROWS_BUILT_ASIDE_FROM: usize = 256;
/// …and handed over in batches of this many.
const ROWS_PER_BATCH: usize = 128;

/// The text columns of `{select} WHERE organization_id = org AND {column} IN (values…)` on `conn`.
fn select_in(
    conn: &Connection,
    org: &str,
    select: &str,
    column: &str,
    values: &[String],
) -> DbResult<Vec<Vec<String>>> {
    let mut out = Vec::new();
    for chunk in values.chunks(IN_LIST_LEN) {
        // Padded with its last value to a power of two, so that a few statements, prepared
        // once, serve every length (a repeated value changes nothing in an IN list).
        let padded = chunk.len().next_power_of_two();
        let list = vec!["?"; padded].join(", ");
        let mut statement =
            conn.prepare_cached(&format!("{select} WHERE organization_id = ? AND {column} IN ({list})"))?;
        let width = statement.column_count();
        let padding = std::iter::repeat_n(&chunk[chunk.len() - 1], padded - chunk.len());
        let params = std::iter::once(org).chain(chunk.iter().map(String::as_str)).chain(padding.map(String::as_str));
        let mut rows = statement.query(rusqlite::params_from_iter(params))?;
        while let Some(row) = rows.next()? {
            out.push((0..width).map(|i| row.get(i)).collect::<Result<_, _>>()?);
        }
    }
    Ok(out)
}

/// Whether a failed native write may succeed when run again.
pub(super) fn is_retryable(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::{DatabaseBusy, DatabaseLocked};
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if matches!(f.code, DatabaseBusy | DatabaseLocked)
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn count(writer: &NativeWriter) -> i64 {
        let conn = writer.conn.lock().unwrap();
        conn.query_row("SELECT count(*) FROM notes", [], |r| r.get(0)).unwrap()
    }

    #[tokio::test]
    async fn a_write_whose_request_is_dropped_commits_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let writer = Arc::new(NativeWriter::open(&dir.path().join("server.db")).unwrap());
        writer.conn.lock().unwrap().execute_batch("CREATE TABLE notes (text TEXT NOT NULL)").unwrap();
        fn insert(tx: &mut NativeTx<'_>, pause: Duration) -> DbResult<()> {
            tx.tx.execute("INSERT INTO notes (text) VALUES ('x')", [])?;
            std::thread::sleep(pause);
            Ok(())
        }

        // The client gives up while the row is written but not yet committed.
        let slow = writer.write(async move |tx| insert(tx, Duration::from_millis(300)));
        assert!(tokio::time::timeout(Duration::from_millis(50), slow).await.is_err(), "the write outlasts the wait");
        // The connection's lock is held until the abandoned write has finished.
        assert_eq!(count(&writer), 0, "the abandoned write was rolled back");

        writer.write(async move |tx| insert(tx, Duration::ZERO)).await.unwrap();
        assert_eq!(count(&writer), 1, "a write that is waited for commits");
    }
}
