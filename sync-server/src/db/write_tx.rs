//! The statements of the merge's write transaction, behind one small trait so its load and write
//! steps (`sync.rs`) run unchanged on either driver: sqlx (PostgreSQL, and the explicit merge on
//! both engines) or rusqlite (SQLite's pushes, `native.rs`: there sqlx's `Any` driver cost half
//! of a push's write step).

use super::rows::{Insert, Val, IN_LIST_LEN};
use super::{Db, DbError, DbResult};
use sqlx::{Any, Row, Transaction};
use uuid::Uuid;

/// A write transaction as the merge uses it. Every statement is scoped to one organisation.
pub(super) trait WriteTx {
    /// Adds `n` to the organisation's change sequence and returns the new value. Its first call
    /// locks the organisation's row: writers of one organisation queue on it, on every server
    /// instance, so sequence order is commit order.
    async fn advance_sequence(&mut self, org: Uuid, n: i64) -> DbResult<i64>;

    /// The text columns of `{select} WHERE organization_id = org AND {column} IN (values…)`.
    async fn select_in(
        &mut self,
        org: Uuid,
        select: &str,
        column: &str,
        values: &[String],
    ) -> DbResult<Vec<Vec<String>>>;

    /// [`WriteTx::select_in`] for each of `selects`, answers in the same order. Only before the
    /// transaction has written anything but its lock on the organisation: they read what is
    /// committed, so a driver may run them at once on another connection (both push drivers do).
    async fn select_in_each(&mut self, org: Uuid, selects: &[SelectIn<'_>]) -> DbResult<Answers> {
        let mut out = Vec::with_capacity(selects.len());
        for s in selects {
            out.push(self.select_in(org, s.select, s.column, &s.values).await?);
        }
        Ok(out)
    }

    /// Inserts `rows`, each with its values in `insert.columns` order. Building a row (a
    /// record serialised) is the iterator's work, which a driver may do on another thread while
    /// it inserts the rows before.
    async fn insert_rows(&mut self, insert: Insert, rows: Rows<'_>) -> DbResult<()>;
}

/// The rows of [`WriteTx::insert_rows`], as they are built. (Boxed: an iterator of closures held
/// across an `await` trips the compiler's check that a push's future is `Send`.)
pub(super) type Rows<'a> = Box<dyn Iterator<Item = Vec<Val>> + Send + 'a>;

/// One read of [`WriteTx::select_in_each`]: `{select} WHERE … AND {column} IN (values…)`.
pub(super) struct SelectIn<'a> {
    pub(super) select: &'a str,
    pub(super) column: &'a str,
    pub(super) values: Vec<String>,
}

/// Whether `selects` are worth a second connection: from 512 values in all (a push of a hundred
/// changes or so), not a REST write's handful.
pub(super) fn worth_splitting(selects: &[SelectIn<'_>]) -> bool {
    selects.iter().map(|s| s.values.len()).sum::<usize>() >= 512
}

/// The answers of [`WriteTx::select_in_each`]: per select, its rows' text columns.
pub(super) type Answers = Vec<Vec<Vec<String>>>;

/// Splits `selects` in two halves of about as many values each, as indices (the larger first,
/// each to the half with fewer values so far), for a driver that runs the halves at once.
pub(super) fn halves(selects: &[SelectIn<'_>]) -> [Vec<usize>; 2] {
    let mut by_size: Vec<usize> = (0..selects.len()).collect();
    by_size.sort_by_key(|&i| std::cmp::Reverse(selects[i].values.len()));
    let (mut halves, mut values): ([Vec<usize>; 2], [usize; 2]) = Default::default();
    for i in by_size {
        let half = usize::from(values[1] < values[0]);
        values[half] += selects[i].values.len();
        halves[half].push(i);
    }
    halves
}

/// The answers of the two [`halves`] back in the order of their selects.
pub(super) fn in_select_order(halves: &[Vec<usize>; 2], answers: [Answers; 2]) -> Answers {
    let mut ordered: Vec<Option<Vec<Vec<String>>>> = vec![None; halves[0].len() + halves[1].len()];
    for (half, answers) in halves.iter().zip(answers) {
        for (&i, answer) in half.iter().zip(answers) {
            ordered[i] = Some(answer);
        }
    }
    ordered.into_iter().map(|a| a.expect("every select was run")).collect()
}

/// [`WriteTx::advance_sequence`]'s statement, on both drivers.
pub(super) const ADVANCE_SEQUENCE: &str = "UPDATE organizations SET seq = seq + $1 WHERE id = $2 RETURNING seq";

/// A sqlx transaction of `db` (on SQLite, taken in the server's write turn: `Db::write_turn`).
pub(super) struct SqlxTx<'a, 'c> {
    pub(super) db: &'a Db,
    pub(super) tx: &'a mut Transaction<'c, Any>,
}

/// `$first, $first+1, …` for an IN list of `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl WriteTx for SqlxTx<'_, '_> {
    async fn advance_sequence(&mut self, org: Uuid, n: i64) -> DbResult<i64> {
        let row = sqlx::query(self.db.sql(ADVANCE_SEQUENCE))
            .bind(n)
            .bind(org.to_string())
            .fetch_optional(&mut **self.tx)
            .await?;
        Ok(row.ok_or(DbError::NoOrganization(org))?.try_get("seq")?)
    }

    async fn select_in(
        &mut self,
        org: Uuid,
        select: &str,
        column: &str,
        values: &[String],
    ) -> DbResult<Vec<Vec<String>>> {
        let mut out = Vec::new();
        for chunk in values.chunks(IN_LIST_LEN) {
            let sql = self.db.sql_in_order(&format!(
                "{select} WHERE organization_id = $1 AND {column} IN ({})",
                placeholders(2, chunk.len())
            ));
            let mut q = sqlx::query(sql).bind(org.to_string());
            for v in chunk {
                q = q.bind(v);
            }
            for row in q.fetch_all(&mut **self.tx).await? {
                out.push((0..row.len()).map(|i| row.try_get(i)).collect::<Result<_, _>>()?);
            }
        }
        Ok(out)
    }

    /// Multi-row `INSERT … VALUES (…), (…)` statements: one round trip per thousand rows
    /// instead of one per row, which was most of a push's cost. (One JSON parameter unpacked by
    /// `json_populate_recordset` instead measured no better on PostgreSQL.)
    async fn insert_rows(&mut self, insert: Insert, rows: Rows<'_>) -> DbResult<()> {
        let Insert { table, columns, on_conflict } = insert;
        let width = columns.len();
        // Both engines take tens of thousands of parameters; stay well under.
        let per_statement = (20_000 / width).max(1);
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<Vec<Val>> = rows.by_ref().take(per_statement).collect();
            let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
            let mut n = 0;
            for i in 0..chunk.len() {
                sql.push_str(if i == 0 { "(" } else { ", (" });
                for j in 0..width {
                    n += 1;
                    if j > 0 {
                        sql.push_str(", ");
                    }
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
                sql.push(')');
            }
            sql.push(' ');
            sql.push_str(on_conflict);
            let mut q = sqlx::query(self.db.sql_in_order(&sql));
            for v in chunk.into_iter().flatten() {
                q = v.bind_to(q);
            }
            q.execute(&mut **self.tx).await?;
        }
        Ok(())
    }
}
