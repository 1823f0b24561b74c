//! Simple customer statistics for the manager: totals by active flag, source and branch, and new
//! customers per day.

use crate::{Result, Store};
use chrono::{Duration, NaiveDate};
use serde::Serialize;
use std::collections::BTreeMap;

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

const TOTALS_SQL: &str = "SELECT source, branch_id, is_active, count(*) FROM customers \
     WHERE merged_into IS NULL GROUP BY source, branch_id, is_active";

impl Store {
    /// Statistics over live customers (merged-away tombstones excluded). Days are UTC days;
    /// `days` is capped at ten years.
    pub fn stats(&self, today: NaiveDate, days: u32) -> Result<Stats> {
        // Every total from one pass over the covering index `customers_totals`.
        let mut stmt = self.conn.prepare_cached(TOTALS_SQL)?;
        let groups = stmt
            .query_map([], |r| {
                Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?, r.get::<_, bool>(2)?, r.get(3)?))
            })?
            .collect::<rusqlite::Result<Vec<(Option<String>, Option<String>, bool, u64)>>>()?;
        let (mut total, mut active) = (0, 0);
        let (mut by_source, mut by_branch) = (BTreeMap::new(), BTreeMap::new());
        for (source, branch, is_active, count) in groups {
            total += count;
            active += if is_active { count } else { 0 };
            *by_source.entry(source).or_insert(0) += count;
            *by_branch.entry(branch).or_insert(0) += count;
        }
        // Largest first; equal counts by key.
        let ranked = |counts: BTreeMap<Option<String>, u64>| {
            let mut rows: Vec<CountBy> = counts.into_iter().map(|(key, count)| CountBy { key, count }).collect();
            rows.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
            rows
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
            by_source: ranked(by_source),
            by_branch: ranked(by_branch),
            new_per_day,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_read_the_covering_index_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("t.db")).unwrap();
        let plan: Vec<String> = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {TOTALS_SQL}"))
            .unwrap()
            .query_map([], |r| r.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(plan.iter().any(|step| step.contains("COVERING INDEX customers_totals")), "{plan:?}");
    }
}
