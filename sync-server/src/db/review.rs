//! Review items (suspected duplicates) and the explicit merge a manager resolves them with.

use super::rows::{customer_row, decode, Val, CUSTOMER_UPSERT};
use super::sync::lock_organization;
use super::write_tx::{SqlxTx, WriteTx};
use super::{ts, uuid_col, Actor, Db, DbResult, ReviewItem};
use chrono::{SubsecRound, Utc};
use pos_core::field_clocks::CompactFields;
use pos_core::merge::{merge_into, FieldMap, Stamped};
use pos_core::{Customer, HlcClock, Sale};
use sqlx::Row;
use uuid::Uuid;

/// How a review item was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewStatus {
    Merged,
    Dismissed,
}

impl ReviewStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Merged => "merged",
            Self::Dismissed => "dismissed",
        }
    }
}

/// The result of an explicit merge.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeResult {
    pub survivor: Customer,
    pub loser: Customer,
    pub sales_repointed: u64,
}

impl Db {
    /// A review item of `org` (any status).
    pub async fn review_item(&self, org: Uuid, id: Uuid) -> DbResult<Option<(ReviewItem, String)>> {
        let rows = self
            .fetch(
                "SELECT id, customer_a, customer_b, match_key, created_at, status FROM review_items \
                 WHERE organization_id = $1 AND id = $2",
                &[Val::text(org), Val::text(id)],
            )
            .await?;
        let Some(r) = rows.first() else { return Ok(None) };
        let item = ReviewItem {
            id: uuid_col(r, "id")?,
            customer_a: uuid_col(r, "customer_a")?,
            customer_b: uuid_col(r, "customer_b")?,
            match_key: r.try_get("match_key")?,
            created_at: r.try_get("created_at")?,
        };
        Ok(Some((item, r.try_get("status")?)))
    }

    /// Closes an open review item; `false` if it is unknown or already closed.
    pub async fn close_review_item(&self, org: Uuid, id: Uuid, status: ReviewStatus, by: Actor) -> DbResult<bool> {
        let _turn = self.write_turn().await;
        let done = sqlx::query(self.sql(
            "UPDATE review_items SET status = $1, resolved_at = $2, resolved_by = $3 \
             WHERE organization_id = $4 AND id = $5 AND status = 'open'",
        ))
        .bind(status.as_str())
        .bind(ts(&Utc::now()))
        .bind(by.label())
        .bind(org.to_string())
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Open review items of every organisation (the `/metrics` gauge; an aggregate, no rows).
    pub async fn open_review_items_total(&self) -> DbResult<i64> {
        let rows = self.fetch("SELECT COUNT(*) AS n FROM review_items WHERE status = 'open'", &[]).await?;
        Ok(rows.first().map(|r| r.try_get("n")).transpose()?.unwrap_or(0))
    }

    /// How many review items of `org` are open.
    pub async fn open_review_count(&self, org: Uuid) -> DbResult<i64> {
        let rows = self
            .fetch(
                "SELECT COUNT(*) AS n FROM review_items WHERE organization_id = $1 AND status = 'open'",
                &[Val::text(org)],
            )
            .await?;
        Ok(rows.first().map(|r| r.try_get("n")).transpose()?.unwrap_or(0))
    }

    /// A manager's explicit merge: `loser` becomes a tombstone pointing at `survivor` (keys
    /// released), the survivor's blank fields are filled from it (fresh server clocks, so every
    /// terminal takes them), its sales and preferences move to the survivor, review items
    /// between the two close, and the merge is logged with who did it. One transaction under
    /// the organisation's lock; `None` if either is not a live customer of `org`.
    pub async fn merge_customers(
        &self,
        org: Uuid,
        survivor: Uuid,
        loser: Uuid,
        actor: Actor,
        clock: &std::sync::Mutex<HlcClock>,
    ) -> DbResult<Option<MergeResult>> {
        let _turn = self.write_turn().await;
        let mut tx = self.pool.begin().await?;
        lock_organization(&mut SqlxTx { db: self, tx: &mut tx }, org).await?;
        let mut live = Vec::new();
        for id in [survivor, loser] {
            let row = sqlx::query(self.sql("SELECT data FROM customers WHERE organization_id = $1 AND id = $2"))
                .bind(org.to_string())
                .bind(id.to_string())
                .fetch_optional(&mut *tx)
                .await?;
            match row.map(|r| decode::<Customer>(&r)).transpose()? {
                Some(c) if c.merged_into.is_none() => live.push(c),
                _ => return Ok(None),
            }
        }
        let (kept, gone) = (live.remove(0), live.remove(0));
        // Milliseconds, as terminals store times (see `plan::plan`).
        let now = Utc::now().trunc_subsecs(3);
        let (merged, stamp) = {
            let mut clock = clock.lock().expect("clock lock");
            let now_ms = now.timestamp_millis().max(0) as u64;
            let incoming: FieldMap = gone.to_fields().into_iter().filter(|(f, _)| f != "is_active").collect();
            let merged = merge_into(&kept.to_fields(), &incoming, &[]);
            let stamp = clock.tick(now_ms);
            (merged, stamp)
        };
        let before = kept.to_fields();
        let changed: FieldMap = merged
            .into_iter()
            .filter(|(f, s)| before.get(f).map(|b| &b.value) != Some(&s.value))
            .map(|(f, s)| (f, Stamped { value: s.value, clock: stamp }))
            .collect();
        let mut next = kept.clone();
        next.set_fields(&changed).map_err(|e| super::DbError::Corrupt(e.to_string()))?;
        next.updated_at = now;
        let mut tombstone = gone.clone();
        tombstone.phone = None;
        tombstone.email = None;
        tombstone.identification = None;
        tombstone.passport_number = None;
        tombstone.merged_into = Some(kept.id);
        tombstone.is_active = false;
        tombstone.updated_at = now;
        for f in ["phone", "email", "identification", "passport_number", "is_active"] {
            tombstone.clocks.insert(f.into(), stamp);
        }

        let prefs_move = sqlx::query(self.sql(
            "SELECT customer_id FROM customer_preferences WHERE organization_id = $1 AND customer_id IN ($2, $3)",
        ))
        .bind(org.to_string())
        .bind(kept.id.to_string())
        .bind(gone.id.to_string())
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| uuid_col(r, "customer_id"))
        .collect::<DbResult<Vec<_>>>()?;
        let move_prefs = prefs_move == [gone.id];
        let rows = 2 + i64::from(move_prefs);
        let mut writer = SqlxTx { db: self, tx: &mut tx };
        let top = writer.advance_sequence(org, rows).await?;
        let org_text = || Val::Text(Some(org.to_string()));
        // The tombstone first, in a statement of its own: it releases the keys the survivor may take.
        let tombstone_row = customer_row(org_text(), Val::Int(top - rows + 1), &tombstone);
        writer.insert_rows(CUSTOMER_UPSERT, Box::new(std::iter::once(tombstone_row))).await?;
        let next_row = customer_row(org_text(), Val::Int(top - rows + 2), &next);
        writer.insert_rows(CUSTOMER_UPSERT, Box::new(std::iter::once(next_row))).await?;
        if move_prefs {
            sqlx::query(self.sql(
                "UPDATE customer_preferences SET customer_id = $1, seq = $2 WHERE organization_id = $3 AND customer_id = $4",
            ))
            .bind(kept.id.to_string())
            .bind(top)
            .bind(org.to_string())
            .bind(gone.id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        // Sales keep their sequence: terminals repoint them when they pull the tombstone.
        let sales = sqlx::query(self.sql("SELECT data FROM sales WHERE organization_id = $1 AND customer_id = $2"))
            .bind(org.to_string())
            .bind(gone.id.to_string())
            .fetch_all(&mut *tx)
            .await?;
        for row in &sales {
            let sale: Sale = decode(row)?;
            let sale = Sale { customer_id: kept.id, ..sale };
            sqlx::query(
                self.sql("UPDATE sales SET customer_id = $1, data = $2 WHERE organization_id = $3 AND id = $4"),
            )
            .bind(kept.id.to_string())
            .bind(serde_json::to_string(&sale).expect("sales serialise"))
            .bind(org.to_string())
            .bind(sale.id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        let now_text = ts(&now);
        for (a, b) in [(kept.id, gone.id), (gone.id, kept.id)] {
            sqlx::query(self.sql(
                "UPDATE review_items SET status = 'merged', resolved_at = $1, resolved_by = $2 \
                 WHERE organization_id = $3 AND customer_a = $4 AND customer_b = $5 AND status = 'open'",
            ))
            .bind(&now_text)
            .bind(actor.label())
            .bind(org.to_string())
            .bind(a.to_string())
            .bind(b.to_string())
            .execute(&mut *tx)
            .await?;
        }
        for column in ["customer_a", "customer_b"] {
            sqlx::query(self.sql(&format!(
                "UPDATE review_items SET {column} = $1 WHERE organization_id = $2 AND {column} = $3 AND status = 'open'"
            )))
            .bind(kept.id.to_string())
            .bind(org.to_string())
            .bind(gone.id.to_string())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(self.sql(
            "INSERT INTO merge_log (organization_id, id, target_id, source_id, change_id, data, merged_at, merged_by) \
             VALUES ($1, $2, $3, $4, NULL, $5, $6, $7)",
        ))
        .bind(org.to_string())
        .bind(Uuid::now_v7().to_string())
        .bind(kept.id.to_string())
        .bind(gone.id.to_string())
        .bind(serde_json::to_string(&CompactFields::from(&gone.to_fields())).expect("fields serialise"))
        .bind(&now_text)
        .bind(actor.label())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(MergeResult { survivor: next, loser: tombstone, sales_repointed: sales.len() as u64 }))
    }

    /// Who merged `source` into `target` and when (the latest such merge).
    pub async fn merge_logged(&self, org: Uuid, source: Uuid) -> DbResult<Option<(Uuid, String, String)>> {
        let rows = self
            .fetch(
                "SELECT target_id, merged_by, merged_at FROM merge_log WHERE organization_id = $1 AND source_id = $2 \
                 ORDER BY merged_at DESC",
                &[Val::text(org), Val::text(source)],
            )
            .await?;
        rows.first()
            .map(|r| Ok((uuid_col(r, "target_id")?, r.try_get("merged_by")?, r.try_get("merged_at")?)))
            .transpose()
    }
}
