//! Simple customer statistics for the manager: totals by active flag, source and branch, and new
//! customers per day.

use crate::{Result, Store};
use chrono::{Duration, NaiveDate};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountBy {
    /// The source name or branch id; `None` for customers without one.
    pub key: Option<String>,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DailyCount {
    pub day: NaiveDate,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub total: u64,
    pub active: u64,
    pub inactive: u64,
    pub by_source: Vec<CountBy>,
    pub by_branch: Vec<CountBy>,
    /// The last `days` days up to `today`, every day present (zero when none).
    pub new_per_day: Vec<DailyCount>,
}

impl Store {
    /// Statistics over live customers (merged-away tombstones excluded). Days are UTC days;
    /// `days` is capped at ten years.
    pub fn stats(&self, today: NaiveDate, days: u32) -> Result<Stats> {
        let (total, active): (u64, u64) = self.conn.query_row(
            "SELECT count(*), coalesce(sum(is_active), 0) FROM customers WHERE merged_into IS NULL",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let count_by = |column: &str| -> Result<Vec<CountBy>> {
            let sql = format!("SELECT {column}, count(*) FROM customers WHERE merged_into IS NULL GROUP BY {column} ORDER BY count(*) DESC, {column}");
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map([], |r| Ok(CountBy { key: r.get(0)?, count: r.get(1)? }))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        let first_day = today - Duration::days(i64::from(days.clamp(1, 3_660)) - 1);
        let mut stmt = self.conn.prepare_cached(
            "SELECT substr(created_at, 1, 10), count(*) FROM customers WHERE merged_into IS NULL AND created_at >= ?1 GROUP BY 1",
        )?;
        let counted: std::collections::HashMap<String, u64> = stmt
            .query_map([first_day.format("%Y-%m-%d").to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let new_per_day = first_day
            .iter_days()
            .take_while(|d| *d <= today)
            .map(|day| DailyCount {
                day,
                count: counted.get(&day.format("%Y-%m-%d").to_string()).copied().unwrap_or(0),
            })
            .collect();
        Ok(Stats {
            total,
            active,
            inactive: total - active,
            by_source: count_by("source")?,
            by_branch: count_by("branch_id")?,
            new_per_day,
        })
    }
}
