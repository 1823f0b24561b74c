//! PostgreSQL's writer for pushes: a pool of the sqlx PostgreSQL driver beside the `Any` pool,
//! so a push's statements take arrays. A key lookup is `column = ANY($2)` and an insert is
//! `INSERT … SELECT * FROM UNNEST($1, $2, …)`, one statement of a fixed shape per table, prepared
//! once per connection, instead of statements of thousands of parameters that `Any` binds one by
//! one and PostgreSQL parses and plans on every push.

use super::rows::{Insert, Val};
use super::write_tx::{WriteTx, ADVANCE_SEQUENCE};
use super::{DbError, DbResult};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Postgres, Row, Transaction};
use uuid::Uuid;

/// Connections that write pushes; pushes of one organisation queue on its row lock anyway.
const PUSH_CONNECTIONS: u32 = 8;

/// Opens the push pool on `url`, with the `Any` pool's session settings (`Db::connect`).
pub(super) async fn connect(url: &str, session: &'static str) -> DbResult<PgPool> {
    Ok(PgPoolOptions::new()
        .max_connections(PUSH_CONNECTIONS)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                sqlx::raw_sql(session).execute(conn).await?;
                Ok(())
            })
        })
        .connect(url)
        .await?)
}

/// A push's transaction on the PostgreSQL driver.
pub(super) struct PgTx<'c>(pub(super) Transaction<'c, Postgres>);

/// One column of rows, as the array it is bound as.
enum Column {
    Text(Vec<Option<String>>),
    Int(Vec<i64>),
}

impl WriteTx for PgTx<'_> {
    async fn advance_sequence(&mut self, org: Uuid, n: i64) -> DbResult<i64> {
        let row = sqlx::query(ADVANCE_SEQUENCE).bind(n).bind(org.to_string()).fetch_optional(&mut *self.0).await?;
        Ok(row.ok_or(DbError::NoOrganization(org))?.try_get(0)?)
    }

    async fn select_in(
        &mut self,
        org: Uuid,
        select: &str,
        column: &str,
        values: &[String],
    ) -> DbResult<Vec<Vec<String>>> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("{select} WHERE organization_id = $1 AND {column} = ANY($2)");
        let rows = sqlx::query(AssertSqlSafe(sql)).bind(org.to_string()).bind(values).fetch_all(&mut *self.0).await?;
        rows.iter().map(|row| (0..row.len()).map(|i| row.try_get(i).map_err(DbError::from)).collect()).collect()
    }

    async fn insert_rows(&mut self, insert: Insert, rows: Vec<Vec<Val>>) -> DbResult<()> {
        let Some(first) = rows.first() else { return Ok(()) };
        let mut columns: Vec<Column> = first
            .iter()
            .map(|v| match v {
                Val::Text(_) => Column::Text(Vec::with_capacity(rows.len())),
                Val::Int(_) => Column::Int(Vec::with_capacity(rows.len())),
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
        query.execute(&mut *self.0).await?;
        Ok(())
    }
}
