//! PostgreSQL's writer for pushes: a pool of the sqlx PostgreSQL driver beside the `Any` pool,
//! so a push's statements take arrays. A key lookup is `column = ANY($2)` and an insert is
//! `INSERT … SELECT * FROM UNNEST($1, $2, …)`, one statement of a fixed shape per table, prepared
//! once per connection, instead of statements of thousands of parameters that `Any` binds one by
//! one and PostgreSQL parses and plans on every push.

use super::rows::{Insert, Val};
use super::write_tx::{halves, in_select_order, worth_splitting, Answers, Rows, SelectIn, WriteTx, ADVANCE_SEQUENCE};
use super::{DbError, DbResult};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, PgConnection, Postgres, Row, Transaction};
use uuid::Uuid;

/// Connections that write pushes; pushes of one organisation queue on its row lock anyway.
const PUSH_CONNECTIONS: u32 = 8;

/// Opens the push pool on `url`, with the `Any` pool's session settings (`Db::connect`).
pub(super) async fn connect(url: &str, session: &'static str) -> DbResult<PgPool> {
    let pool = PgPoolOptions::new()
        .max_connections(PUSH_CONNECTIONS)
        // A push finds a second one idle for half of its lookups (`select_in_each`).
        .min_connections(2)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                sqlx::raw_sql(session).execute(conn).await?;
                Ok(())
            })
        })
        .connect(url)
        .await?;
    // Both open from the start, not once the pool gets round to it.
    let (first, second) = tokio::join!(pool.acquire(), pool.acquire());
    drop((first?, second?));
    Ok(pool)
}

/// A push's transaction on the PostgreSQL driver, and the pool it came from.
pub(super) struct PgTx {
    tx: Transaction<'static, Postgres>,
    pool: PgPool,
}

impl PgTx {
    pub(super) async fn begin(pool: &PgPool) -> DbResult<PgTx> {
        Ok(PgTx { tx: pool.begin().await?, pool: pool.clone() })
    }

    pub(super) async fn commit(self) -> DbResult<()> {
        Ok(self.tx.commit().await?)
    }
}

/// The text columns of `{select} WHERE organization_id = org AND {column} = ANY(values)` on `conn`.
async fn select_in(
    conn: &mut PgConnection,
    org: &str,
    select: &str,
    column: &str,
    values: &[String],
) -> DbResult<Vec<Vec<String>>> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!("{select} WHERE organization_id = $1 AND {column} = ANY($2)");
    let rows = sqlx::query(AssertSqlSafe(sql)).bind(org).bind(values).fetch_all(conn).await?;
    rows.iter().map(|row| (0..row.len()).map(|i| row.try_get(i).map_err(DbError::from)).collect()).collect()
}

/// [`select_each`] on a connection other than the push's, in a read-only transaction that gives
/// up on a lock after a second: a migration queued for a table the push's transaction has read
/// waits for that transaction, which would wait here, a cycle PostgreSQL cannot see.
async fn select_aside(
    conn: &mut PgConnection,
    org: &str,
    selects: &[SelectIn<'_>],
    half: &[usize],
) -> DbResult<Answers> {
    let mut tx = conn.begin().await?;
    sqlx::raw_sql("SET TRANSACTION READ ONLY; SET LOCAL lock_timeout = '1s'").execute(&mut *tx).await?;
    let answers = select_each(&mut tx, org, selects, half).await?;
    tx.commit().await?;
    Ok(answers)
}

/// [`select_in`] for each select of `half`, in turn.
async fn select_each(
    conn: &mut PgConnection,
    org: &str,
    selects: &[SelectIn<'_>],
    half: &[usize],
) -> DbResult<Answers> {
    let mut answers = Vec::with_capacity(half.len());
    for s in half.iter().map(|&i| &selects[i]) {
        answers.push(select_in(conn, org, s.select, s.column, &s.values).await?);
    }
    Ok(answers)
}

/// One column of rows, as the array it is bound as.
enum Column {
    Text(Vec<Option<String>>),
    Int(Vec<i64>),
}

impl WriteTx for PgTx {
    async fn advance_sequence(&mut self, org: Uuid, n: i64) -> DbResult<i64> {
        let row = sqlx::query(ADVANCE_SEQUENCE).bind(n).bind(org.to_string()).fetch_optional(&mut *self.tx).await?;
        Ok(row.ok_or(DbError::NoOrganization(org))?.try_get(0)?)
    }

    async fn select_in(
        &mut self,
        org: Uuid,
        select: &str,
        column: &str,
        values: &[String],
    ) -> DbResult<Vec<Vec<String>>> {
        select_in(&mut self.tx, &org.to_string(), select, column, values).await
    }

    /// Split in two ([`halves`]), one half on a second pooled connection at the same time when
    /// one is idle; never waiting for one, as pushes that each hold a connection while waiting
    /// for another would wait on each other. Outside the transaction it reads what is committed,
    /// which is what the transaction sees: every writer of an organisation's rows takes its lock
    /// first, and this push holds it. Should that half fail (a dead connection, a lock it may
    /// not wait for), the transaction reads it instead.
    async fn select_in_each(&mut self, org: Uuid, selects: &[SelectIn<'_>]) -> DbResult<Answers> {
        let org = org.to_string();
        let all: Vec<usize> = (0..selects.len()).collect();
        if !worth_splitting(selects) {
            return select_each(&mut self.tx, &org, selects, &all).await;
        }
        let Some(mut other) = self.pool.try_acquire() else {
            return select_each(&mut self.tx, &org, selects, &all).await;
        };
        let halves = halves(selects);
        let (mine, theirs) = tokio::join!(
            select_each(&mut self.tx, &org, selects, &halves[0]),
            select_aside(&mut other, &org, selects, &halves[1])
        );
        // A failed half of its own leaves the transaction aborted: that error is the one to report.
        let mine = mine?;
        let theirs = match theirs {
            Ok(answers) => answers,
            Err(e) => {
                tracing::debug!(error = %e, "a push's lookups on a second connection failed; reading them in its transaction");
                drop(other.detach());
                select_each(&mut self.tx, &org, selects, &halves[1]).await?
            }
        };
        Ok(in_select_order(&halves, [mine, theirs]))
    }

    async fn insert_rows(&mut self, insert: Insert, rows: Rows<'_>) -> DbResult<()> {
        let len = rows.size_hint().0;
        let mut rows = rows.peekable();
        let Some(first) = rows.peek() else { return Ok(()) };
        let mut columns: Vec<Column> = first
            .iter()
            .map(|v| match v {
                Val::Text(_) => Column::Text(Vec::with_capacity(len)),
                Val::Int(_) => Column::Int(Vec::with_capacity(len)),
            })
            .collect();
        for row in rows {
            for (column, value) in columns.iter_mut().zip(row) {
                match (column, value) {
                    (Column::Text(c), Val::Text(t)) => c.push(t),
                    (Column::Int(c), Val::Int(i)) => c.push(i),
                    _ => unreachable!("every row of an insert has the same shape"),
                }
            }
        }
        let Insert { table, columns: names, on_conflict } = insert;
        let arrays: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("${}::{}", i + 1, if matches!(c, Column::Text(_)) { "text[]" } else { "int8[]" }))
            .collect();
        let sql = format!(
            "INSERT INTO {table} ({}) SELECT * FROM UNNEST({}) {on_conflict}",
            names.join(", "),
            arrays.join(", ")
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for column in columns {
            query = match column {
                Column::Text(c) => query.bind(c),
                Column::Int(c) => query.bind(c),
            };
        }
        query.execute(&mut *self.tx).await?;
        Ok(())
    }
}
