//! Storage: one implementation over sqlx's `Any` driver, on embedded SQLite (the default) or
//! PostgreSQL (`postgres://…`); on SQLite, pushes are written through rusqlite (`native`). The
//! SQL is the subset both engines speak; the schema has a migration file per engine under
//! `migrations/server-*`. Correctness across server instances comes from the database: unique
//! indexes and the per-organisation sequence row lock.

mod accounts;
mod customer_reads;
mod native;
mod postgres;
mod review;
mod rows;
mod sync;
mod write_tx;

pub use accounts::{DeviceRecord, RefreshUse, UserRecord};
pub use customer_reads::{CustomerFilter, CustomerStats, MatchedBy, Ordering, MAX_PAGE_SIZE};
pub use review::{MergeResult, ReviewStatus};
pub use sync::{Actor, ReviewItem, WriteMode};

use chrono::{DateTime, SecondsFormat, Utc};
use native::{NativeWriter, WriteTurn, SQLITE_PRAGMAS};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, AssertSqlSafe, Row};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
    /// From SQLite's push writer.
    #[error(transparent)]
    Native(#[from] rusqlite::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("unsupported database url {0:?} (use sqlite:// or postgres://)")]
    UnsupportedUrl(String),
    #[error("organisation {0} does not exist")]
    NoOrganization(Uuid),
    /// The request asking for a write was dropped before it committed; nothing was written.
    #[error("the request was abandoned before its write committed")]
    Abandoned,
    /// A strict create matched customer `existing`; nothing was written.
    #[error("the customer already exists as {existing}")]
    Duplicate { existing: Uuid },
}

pub type DbResult<T> = Result<T, DbError>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

const SQLITE_MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/server-sqlite/0001_init.sql"),
    include_str!("../../../migrations/server-sqlite/0002_customer_api.sql"),
    include_str!("../../../migrations/server-sqlite/0003_partial_key_indexes.sql"),
];
const POSTGRES_MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/server-postgres/0001_init.sql"),
    include_str!("../../../migrations/server-postgres/0002_customer_api.sql"),
    include_str!("../../../migrations/server-postgres/0003_partial_key_indexes.sql"),
];

/// Every PostgreSQL connection's session settings. Plan every execution with its values and the
/// table's current size: a generic plan cached while an organisation was small keeps scanning it
/// when it is large (measured: 165 vs 2,950 changes/s). The rows a push touches are in memory
/// (or on SSD): price a random page like a sequential one, or a list of hundreds of keys is
/// planned as a scan of the whole organisation (measured: 20 ms vs 3 ms per list).
const POSTGRES_SESSION: &str = "SET plan_cache_mode = force_custom_plan; SET random_page_cost = 1.1";

/// The server's database.
#[derive(Debug, Clone)]
pub struct Db {
    pool: AnyPool,
    writer: PushWriter,
}

/// Where pushes are written, on each engine's own driver; the engine in use.
#[derive(Debug, Clone)]
enum PushWriter {
    Sqlite(Arc<NativeWriter>),
    Postgres(sqlx::PgPool),
}

pub(crate) fn ts(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn uuid_col(row: &AnyRow, col: &str) -> DbResult<Uuid> {
    uuid_text(&row.try_get::<String, _>(col)?)
}

pub(crate) fn uuid_text(s: &str) -> DbResult<Uuid> {
    Uuid::from_str(s).map_err(|e| DbError::Corrupt(format!("id {s:?}: {e}")))
}

pub(crate) fn opt_uuid_col(row: &AnyRow, col: &str) -> DbResult<Option<Uuid>> {
    row.try_get::<Option<String>, _>(col)?.as_deref().map(uuid_text).transpose()
}

impl Db {
    /// Connects to `url` (`sqlite://path` or `postgres://…`) and applies pending migrations.
    pub async fn connect(url: &str) -> DbResult<Db> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(url.to_owned()));
        };
        let pool = match backend {
            Backend::Sqlite => {
                let url = if url.contains('?') { url.to_owned() } else { format!("{url}?mode=rwc") };
                // One writer at a time is SQLite's model; a small pool still lets pulls read
                // while a push writes (WAL).
                AnyPoolOptions::new()
                    .max_connections(4)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::raw_sql(SQLITE_PRAGMAS).execute(conn).await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(16)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            sqlx::raw_sql(POSTGRES_SESSION).execute(conn).await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?
            }
        };
        let writer = match backend {
            Backend::Postgres => PushWriter::Postgres(postgres::connect(url, POSTGRES_SESSION).await?),
            Backend::Sqlite => {
                // The file the pool opened, however the URL named it.
                let row =
                    sqlx::query("SELECT file FROM pragma_database_list WHERE name = 'main'").fetch_one(&pool).await?;
                let file: String = row.try_get("file")?;
                if file.is_empty() {
                    // Each connection would see a database of its own.
                    return Err(DbError::UnsupportedUrl(format!("{url} (an in-memory SQLite database; name a file)")));
                }
                PushWriter::Sqlite(Arc::new(NativeWriter::open(Path::new(&file))?))
            }
        };
        let db = Db { pool, writer };
        db.migrate().await?;
        Ok(db)
    }

    /// The default embedded database: `<data dir>/pos-sync/server.db`.
    pub fn default_sqlite_url(data_dir: &Path) -> String {
        format!("sqlite://{}", data_dir.join("server.db").display())
    }

    pub fn backend(&self) -> Backend {
        match self.writer {
            PushWriter::Sqlite(_) => Backend::Sqlite,
            PushWriter::Postgres(_) => Backend::Postgres,
        }
    }

    /// Writes the SQL placeholders `$1, $2, …` the way the backend wants them.
    /// Every statement is a literal of this crate (identifiers from fixed lists at most), with
    /// values bound as parameters.
    pub(crate) fn sql(&self, q: &str) -> AssertSqlSafe<String> {
        AssertSqlSafe(match self.backend() {
            Backend::Postgres => q.to_owned(),
            Backend::Sqlite => q.replace('$', "?"),
        })
    }

    /// Like [`Db::sql`], for statements whose placeholders `$1, $2, …` each appear once and in
    /// order (the generated multi-row INSERTs and IN lists). SQLite gets anonymous `?`: binding
    /// a numbered `?NNN` looks its name up with a linear scan, so binding a statement with
    /// thousands of them is quadratic (it was a third of a push's time).
    pub(crate) fn sql_in_order(&self, q: &str) -> AssertSqlSafe<String> {
        AssertSqlSafe(match self.backend() {
            Backend::Postgres => q.to_owned(),
            Backend::Sqlite => {
                let mut out = String::with_capacity(q.len());
                let mut chars = q.chars().peekable();
                while let Some(c) = chars.next() {
                    if c == '$' {
                        out.push('?');
                        while chars.next_if(char::is_ascii_digit).is_some() {}
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        })
    }

    /// Applies pending migrations in one transaction. On PostgreSQL an advisory lock makes
    /// instances that start together take turns: the first migrates, the others find it done.
    async fn migrate(&self) -> DbResult<()> {
        let files = match self.backend() {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let mut tx = self.pool.begin().await?;
        if self.backend() == Backend::Postgres {
            sqlx::raw_sql("SELECT pg_advisory_xact_lock(72270001)").execute(&mut *tx).await?;
        }
        sqlx::raw_sql(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at TEXT NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        for (index, sql) in files.iter().enumerate() {
            let version = (index + 1) as i64;
            let done = sqlx::query(self.sql("SELECT version FROM schema_migrations WHERE version = $1"))
                .bind(version)
                .fetch_optional(&mut *tx)
                .await?;
            if done.is_none() {
                sqlx::raw_sql(AssertSqlSafe(*sql)).execute(&mut *tx).await?;
                if version == 2 {
                    self.fill_search_columns(&mut tx).await?;
                }
                sqlx::query(self.sql("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)"))
                    .bind(version)
                    .bind(ts(&Utc::now()))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// On SQLite, waits for this server's turn to write (`native::NativeWriter`'s `turn`): every
    /// write takes it, so writers are served in arrival order. On PostgreSQL there is no turn:
    /// writers of an organisation queue on its row lock.
    pub(super) async fn write_turn(&self) -> Option<WriteTurn> {
        match &self.writer {
            PushWriter::Sqlite(writer) => Some(writer.turn().await),
            PushWriter::Postgres(_) => None,
        }
    }

    /// A secret shared by every instance on this database (the JWT signing key), created once.
    pub async fn shared_secret(&self, name: &str) -> DbResult<Vec<u8>> {
        let _turn = self.write_turn().await;
        let mut fresh = [0u8; 32];
        getrandom::fill(&mut fresh).map_err(|e| DbError::Corrupt(format!("no randomness: {e}")))?;
        let hex: String = fresh.iter().map(|b| format!("{b:02x}")).collect();
        sqlx::query(self.sql("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING"))
            .bind(name)
            .bind(&hex)
            .execute(&self.pool)
            .await?;
        let row = sqlx::query(self.sql("SELECT value FROM server_secrets WHERE name = $1"))
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        let value: String = row.try_get("value")?;
        (0..value.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&value[i..i + 2], 16).map_err(|e| DbError::Corrupt(e.to_string())))
            .collect()
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> DbResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
