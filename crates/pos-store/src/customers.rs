//! Customer writes and reads: strict create, find-or-create under the dedupe rule, edits, soft
//! delete and bulk (de)activation, preferences, and applying customers pulled from the server.

use crate::outbox::{drop_rejected, enqueue, rejected_entity};
use crate::rows::{customer_from_row, get_json, upsert_customer, CUSTOMER_COLUMNS};
use crate::{DuplicateKey, Result, Store, StoreError, WriteCtx};
use chrono::Utc;
use pos_core::customer::{CONTENT_FIELDS, MERGED_FIELDS};
use pos_core::merge::{merge_into, rebase, record_fields, with_fields, FieldMap, Stamped};
use pos_core::preferences::PREFERENCE_FIELDS;
use pos_core::wire::ChangeBody;
use pos_core::{
    decide, validate_customer, Customer, CustomerInput, Hlc, KeyHits, KeyKind, MatchDecision, MatchKeys, Preferences,
    ReviewConflict, ValidCustomer,
};
use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The result of a find-or-create.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindOrCreate {
    pub customer: Customer,
    pub created: bool,
    /// The key that found the existing customer.
    pub matched_by: Option<KeyKind>,
    /// The customer was inactive and checkout brought it back.
    pub reactivated: bool,
    /// Other customers that own some of the record's keys (the server opens review items).
    pub possible_duplicates: Vec<ReviewConflict>,
}

/// A preferences write: the stored preferences after it.
pub type PreferencesUpdate = Preferences;

pub(crate) fn get_customer(conn: &Connection, id: Uuid) -> Result<Option<Customer>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {CUSTOMER_COLUMNS} FROM customers WHERE id = ?1"))?;
    Ok(stmt.query_row([id.to_string()], customer_from_row).optional()?)
}

/// A live (not merged away) customer, or `NotFound`.
pub(crate) fn live_customer(conn: &Connection, id: Uuid) -> Result<Customer> {
    get_customer(conn, id)?.filter(|c| c.merged_into.is_none()).ok_or(StoreError::NotFound(id))
}

/// Follows `merged_into` links from `id` to the customer that survived.
pub(crate) fn resolve_customer(conn: &Connection, id: Uuid) -> Result<Option<Customer>> {
    let mut current = get_customer(conn, id)?;
    for _ in 0..16 {
        match current {
            Some(Customer { merged_into: Some(next), .. }) => current = get_customer(conn, next)?,
            other => return Ok(other),
        }
    }
    Err(StoreError::Corrupt(format!("merge chain from {id} does not end")))
}

/// For each key, the live customer that holds it (other than `except`).
pub(crate) fn key_hits(conn: &Connection, keys: &MatchKeys, except: Option<Uuid>) -> Result<KeyHits> {
    let mut hits = KeyHits::default();
    let except = except.map(|id| id.to_string()).unwrap_or_default();
    for (kind, value) in keys.iter() {
        let sql = format!(
            "SELECT id FROM customers WHERE {} = ?1 AND merged_into IS NULL AND id <> ?2 ORDER BY created_at LIMIT 1",
            kind.field()
        );
        let id: Option<String> = conn.prepare_cached(&sql)?.query_row((value, &except), |r| r.get(0)).optional()?;
        hits.set(kind, id.map(|s| crate::rows::parse_uuid(&s)).transpose()?);
    }
    Ok(hits)
}

fn duplicates_of(hits: &KeyHits) -> Vec<DuplicateKey> {
    KeyKind::PRIORITY
        .into_iter()
        .filter_map(|key| hits.get(key).map(|existing_id| DuplicateKey { key, existing_id }))
        .collect()
}

/// The content fields of validated input, all stamped with `hlc`.
fn content_fields(valid: &ValidCustomer, hlc: Hlc) -> FieldMap {
    let clocks = CONTENT_FIELDS.iter().map(|f| (f.to_string(), hlc)).collect();
    record_fields(valid, CONTENT_FIELDS, &clocks)
}

/// Fields of `next` whose value differs from `current`.
fn changed(current: &FieldMap, next: FieldMap) -> FieldMap {
    next.into_iter().filter(|(name, s)| current.get(name).is_none_or(|c| c.value != s.value)).collect()
}

/// Applies `fields` to `customer`, stores it and queues the change. No-op when `fields` is empty.
pub(crate) fn write_fields(conn: &Connection, ctx: &WriteCtx, customer: &mut Customer, fields: FieldMap) -> Result<()> {
    if fields.is_empty() {
        return Ok(());
    }
    customer.set_fields(&fields).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    customer.updated_at = ctx.now;
    upsert_customer(conn, customer)?;
    enqueue(conn, ctx, ChangeBody::Customer { id: customer.id, fields })?;
    Ok(())
}

/// Creates a customer from validated input and queues it.
fn insert_new(conn: &Connection, ctx: &WriteCtx, valid: &ValidCustomer) -> Result<Customer> {
    let id = Uuid::now_v7();
    let mut customer = Customer::blank(id, ctx.identity.organization_id, ctx.now);
    customer.branch_id = valid.branch_id.or(ctx.identity.branch_id);
    let mut fields = content_fields(valid, ctx.hlc);
    fields.insert(
        "branch_id".into(),
        Stamped { value: serde_json::to_value(customer.branch_id).expect("uuid"), clock: ctx.hlc },
    );
    fields.insert("is_active".into(), Stamped { value: true.into(), clock: ctx.hlc });
    customer.set_fields(&fields).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    // Every merged field carries a clock from birth, so later joins compare like with like.
    for f in MERGED_FIELDS {
        customer.clocks.insert(f.to_owned(), ctx.hlc);
    }
    upsert_customer(conn, &customer)?;
    enqueue(conn, ctx, ChangeBody::Customer { id, fields: customer.to_fields() })?;
    Ok(customer)
}

/// The dedupe rule on the terminal: the same decision the server makes, against local data.
pub(crate) fn find_or_create_in(
    conn: &Connection,
    ctx: &WriteCtx,
    valid: &ValidCustomer,
    reactivate: bool,
) -> Result<FindOrCreate> {
    let hits = key_hits(conn, &valid.keys(), None)?;
    let decision = decide(&hits);
    let MatchDecision::Merge { target, matched_by, conflicts } = &decision else {
        let customer = insert_new(conn, ctx, valid)?;
        return Ok(FindOrCreate {
            customer,
            created: true,
            matched_by: None,
            reactivated: false,
            possible_duplicates: vec![],
        });
    };
    let mut customer = live_customer(conn, *target)?;
    let current = customer.to_fields();
    let merged = merge_into(&current, &content_fields(valid, ctx.hlc), &decision.keys_owned_elsewhere(&hits));
    let mut update = changed(&current, merged);
    let reactivated = reactivate && !customer.is_active;
    if reactivated {
        update.insert("is_active".into(), Stamped { value: true.into(), clock: ctx.hlc });
    }
    write_fields(conn, ctx, &mut customer, update)?;
    Ok(FindOrCreate {
        customer,
        created: false,
        matched_by: Some(*matched_by),
        reactivated,
        possible_duplicates: conflicts.clone(),
    })
}

impl Store {
    pub fn get_customer(&self, id: Uuid) -> Result<Option<Customer>> {
        get_customer(&self.conn, id)
    }

    /// Every customer row this terminal holds, merged-away ones included, by id: what an audit
    /// (and the convergence tests) compares with the server's rows.
    pub fn all_customers(&self) -> Result<Vec<Customer>> {
        let mut stmt = self.conn.prepare(&format!("SELECT {CUSTOMER_COLUMNS} FROM customers ORDER BY id"))?;
        let customers = stmt.query_map([], customer_from_row)?.collect::<rusqlite::Result<_>>()?;
        Ok(customers)
    }

    /// Follows `merged_into` links to the customer that survived, if `id` was merged away.
    pub fn resolve_customer(&self, id: Uuid) -> Result<Option<Customer>> {
        resolve_customer(&self.conn, id)
    }

    /// Manual capture: validates and creates a customer, refusing an identifier that another
    /// customer already has (naming that customer) instead of merging.
    pub fn create_customer(&mut self, input: &CustomerInput) -> Result<Customer> {
        let valid = validate_customer(input, Utc::now().date_naive())?;
        self.write(|tx, ctx| {
            let dups = duplicates_of(&key_hits(tx, &valid.keys(), None)?);
            if !dups.is_empty() {
                return Err(StoreError::Duplicate(dups));
            }
            insert_new(tx, ctx, &valid)
        })
    }

    /// Seed 2's find-or-create: validates, then finds the customer by phone → email → passport
    /// → cédula and merges the input into it, or creates one. An inactive match is reactivated.
    pub fn find_or_create(&mut self, input: &CustomerInput) -> Result<FindOrCreate> {
        let valid = validate_customer(input, Utc::now().date_naive())?;
        self.write(|tx, ctx| find_or_create_in(tx, ctx, &valid, true))
    }

    /// Edits a customer: `input` is the whole edited form. Only fields that changed are
    /// stamped and queued. A key that belongs to another customer is refused.
    pub fn update_customer(&mut self, id: Uuid, input: &CustomerInput) -> Result<Customer> {
        self.edit(id, input, None)
    }

    /// Fixes a customer change the server rejected: applies the corrected form, queues the whole
    /// record again (the server never took the rejected change, so it may not know the customer)
    /// and drops the rejected entry, all in one transaction.
    pub fn fix_rejected_customer(&mut self, change_id: Uuid, input: &CustomerInput) -> Result<Customer> {
        let id = rejected_entity(&self.conn, change_id, "customer")?.ok_or(StoreError::NotFound(change_id))?;
        self.edit(id, input, Some(change_id))
    }

    fn edit(&mut self, id: Uuid, input: &CustomerInput, resubmit: Option<Uuid>) -> Result<Customer> {
        let existing = live_customer(&self.conn, id)?;
        let mut input = input.clone();
        input.source.get_or_insert_with(|| existing.source.as_str().to_owned());
        input.branch_id = input.branch_id.or(existing.branch_id);
        let valid = validate_customer(&input, Utc::now().date_naive())?;
        self.write(|tx, ctx| {
            let dups = duplicates_of(&key_hits(tx, &valid.keys(), Some(id))?);
            if !dups.is_empty() {
                return Err(StoreError::Duplicate(dups));
            }
            let mut customer = live_customer(tx, id)?;
            let current = customer.to_fields();
            let update = match resubmit {
                None => changed(&current, content_fields(&valid, ctx.hlc)),
                Some(change_id) => {
                    drop_rejected(tx, change_id)?;
                    let whole = current.into_iter().map(|(f, s)| (f, Stamped { clock: ctx.hlc, ..s }));
                    whole.chain(content_fields(&valid, ctx.hlc)).collect()
                }
            };
            write_fields(tx, ctx, &mut customer, update)?;
            Ok(customer)
        })
    }

    /// Bulk activate / deactivate. Returns how many customers changed state.
    pub fn set_active(&mut self, ids: &[Uuid], active: bool) -> Result<usize> {
        self.write(|tx, ctx| {
            let mut count = 0;
            for &id in ids {
                let mut customer = live_customer(tx, id)?;
                if customer.is_active != active {
                    let field = [("is_active".to_owned(), Stamped { value: active.into(), clock: ctx.hlc })].into();
                    write_fields(tx, ctx, &mut customer, field)?;
                    count += 1;
                }
            }
            Ok(count)
        })
    }

    /// Soft delete: the customer stays (for history and sync) but is inactive.
    pub fn soft_delete(&mut self, id: Uuid) -> Result<()> {
        self.set_active(&[id], false).map(|_| ())
    }

    /// A customer's communication preferences (the defaults if never set).
    pub fn preferences(&self, customer_id: Uuid) -> Result<Preferences> {
        Ok(stored_preferences(&self.conn, customer_id)?.map(|(p, _)| p).unwrap_or_default())
    }

    /// Replaces a customer's preferences; the fields that changed are queued for the server.
    pub fn set_preferences(&mut self, customer_id: Uuid, prefs: &Preferences) -> Result<PreferencesUpdate> {
        self.write(|tx, ctx| {
            live_customer(tx, customer_id)?;
            let (current, mut clocks) = stored_preferences(tx, customer_id)?.unwrap_or_default();
            let all_now = PREFERENCE_FIELDS.iter().map(|f| (f.to_string(), ctx.hlc)).collect();
            let update = changed(
                &record_fields(&current, &PREFERENCE_FIELDS, &clocks),
                record_fields(prefs, &PREFERENCE_FIELDS, &all_now),
            );
            if update.is_empty() {
                return Ok(current);
            }
            let next: Preferences =
                with_fields(&current, &PREFERENCE_FIELDS, &update).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            clocks.extend(update.iter().map(|(f, s)| (f.clone(), s.clock)));
            store_preferences(tx, customer_id, &next, &clocks)?;
            enqueue(tx, ctx, ChangeBody::Preferences { customer_id, fields: update })?;
            Ok(next)
        })
    }
}

/// The row to store for a customer pulled from the server: the server's row, rebased over
/// this terminal's unacknowledged changes of it (`pending` says which fields those carry;
/// [`pos_core::merge::rebase`]). A tombstone replaces the local row and its sales move to the
/// survivor. The caller stores the row ([`crate::rows::upsert_customers`]).
pub(crate) fn remote_customer_row(
    conn: &Connection,
    remote: &Customer,
    pending: impl Fn(&str) -> bool,
) -> Result<Customer> {
    let mut row = remote.clone();
    if remote.merged_into.is_none() {
        if let Some(local) = get_customer(conn, remote.id)?
            .filter(|l| MERGED_FIELDS.iter().any(|f| pending(f)) && l.merged_into.is_none())
        {
            let rebased = rebase(&remote.to_fields(), &local.to_fields(), &pending);
            row.set_fields(&rebased).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            row.updated_at = remote.updated_at.max(local.updated_at);
        }
    }
    if let Some(survivor) = row.merged_into {
        conn.prepare_cached("UPDATE sales SET customer_id = ?1 WHERE customer_id = ?2")?
            .execute((survivor.to_string(), row.id.to_string()))?;
    }
    Ok(row)
}

pub(crate) fn stored_preferences(
    conn: &Connection,
    customer_id: Uuid,
) -> Result<Option<(Preferences, BTreeMap<String, Hlc>)>> {
    let mut stmt = conn.prepare_cached("SELECT data, clocks FROM customer_preferences WHERE customer_id = ?1")?;
    Ok(stmt.query_row([customer_id.to_string()], |r| Ok((get_json(r, 0)?, get_json(r, 1)?))).optional()?)
}

pub(crate) fn store_preferences(
    conn: &Connection,
    customer_id: Uuid,
    prefs: &Preferences,
    clocks: &BTreeMap<String, Hlc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO customer_preferences (customer_id, data, clocks) VALUES (?1, ?2, ?3)
         ON CONFLICT(customer_id) DO UPDATE SET data = excluded.data, clocks = excluded.clocks",
    )?
    .execute((
        customer_id.to_string(),
        serde_json::to_string(prefs).expect("prefs serialise"),
        serde_json::to_string(clocks).expect("clocks serialise"),
    ))?;
    Ok(())
}
