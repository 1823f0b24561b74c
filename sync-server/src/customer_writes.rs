//! Customer operations of the REST API. Each write is built as sync changes stamped with the
//! server's hybrid logical clock and applied through `Db::write_changes` — the path terminal
//! pushes take — so the central merge, the unique keys and the organisation sequence treat a
//! REST write exactly like a terminal's, and terminals receive it on their next pull.

use crate::db::{Actor, MatchedBy, WriteMode};
use crate::error::AppError;
use crate::AppState;
use chrono::Utc;
use pos_core::customer::CONTENT_FIELDS;
use pos_core::merge::{merge_into, record_fields, FieldMap, Stamped};
use pos_core::preferences::PREFERENCE_FIELDS;
use pos_core::validate::validate_customer;
use pos_core::wire::{Change, ChangeBody, ChangeOutcome};
use pos_core::{
    decide, Customer, CustomerInput, ErrorCode, Hlc, KeyKind, MatchDecision, Preferences, ReviewConflict,
    ValidCustomer, ValidationErrors,
};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

/// What find-or-create did.
#[derive(Debug, Clone, Serialize)]
pub struct FoundOrCreated {
    pub customer: Customer,
    pub created: bool,
    /// The key that found an existing customer.
    pub matched_by: Option<KeyKind>,
    pub reactivated: bool,
    /// Other customers sharing a key with the input (a review item was opened for each).
    pub possible_duplicates: Vec<ReviewConflict>,
}

/// Counts of a bulk (de)activation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct BulkResult {
    pub updated: usize,
    pub unchanged: usize,
    pub not_found: usize,
}

/// The customer operations of one caller in one organisation.
#[derive(Debug)]
pub struct Customers<'a> {
    pub state: &'a AppState,
    pub org: Uuid,
    pub actor: Actor,
}

/// Another customer holds one of `valid`'s keys: names the fields and the holder.
fn conflict(existing: Option<Uuid>, fields: impl IntoIterator<Item = KeyKind>) -> AppError {
    let mut errors = ValidationErrors::default();
    for kind in fields {
        errors.push(kind.field(), ErrorCode::Duplicate);
    }
    AppError::Conflict { existing, fields: errors }
}

impl Customers<'_> {
    /// A fresh stamp from the server's clock.
    fn stamp(&self) -> Hlc {
        let now_ms = Utc::now().timestamp_millis().max(0) as u64;
        self.state.clock.lock().expect("clock lock").tick(now_ms)
    }

    fn today(&self) -> chrono::NaiveDate {
        Utc::now().date_naive()
    }

    /// The content fields of validated input, all stamped `clock`.
    fn content_fields(valid: &ValidCustomer, clock: Hlc) -> FieldMap {
        let clocks: BTreeMap<String, Hlc> = CONTENT_FIELDS.iter().map(|f| ((*f).to_owned(), clock)).collect();
        record_fields(valid, CONTENT_FIELDS, &clocks)
    }

    fn change(&self, body: ChangeBody) -> Change {
        Change { change_id: Uuid::now_v7(), device_id: self.actor.id(), body }
    }

    /// Applies `changes` in one transaction; a rejected change becomes the error it names.
    async fn write(&self, changes: Vec<Change>, mode: WriteMode) -> Result<Vec<ChangeOutcome>, AppError> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let answer = self.state.db.write_changes(self.org, self.actor, changes, &self.state.clock, mode).await?;
        crate::metrics::METRICS.record_push(&answer);
        let mut outcomes = Vec::with_capacity(answer.results.len());
        for result in answer.results {
            if let ChangeOutcome::Rejected { errors } = &result.outcome {
                let duplicates: Vec<KeyKind> = KeyKind::PRIORITY
                    .into_iter()
                    .filter(|k| errors.code_for(k.field()) == Some(ErrorCode::Duplicate))
                    .collect();
                if !duplicates.is_empty() {
                    return Err(conflict(None, duplicates));
                }
                return Err(AppError::Invalid(errors.clone()));
            }
            outcomes.push(result.outcome);
        }
        Ok(outcomes)
    }

    async fn check_branch(&self, branch: Option<Uuid>) -> Result<(), AppError> {
        match branch {
            Some(b) if !self.state.db.branch_exists(self.org, b).await? => {
                Err(AppError::Invalid(ValidationErrors::one("branch_id", ErrorCode::NotFound)))
            }
            _ => Ok(()),
        }
    }

    /// The live customer `id` (404 when unknown in this organisation or merged away).
    pub async fn get(&self, id: Uuid) -> Result<Customer, AppError> {
        match self.state.db.customer(self.org, id).await? {
            Some(c) if c.merged_into.is_none() => Ok(c),
            _ => Err(AppError::NotFound),
        }
    }

    /// A strict create: refuses (409, naming the holder) an identifier another customer has.
    pub async fn create(&self, input: &CustomerInput) -> Result<Customer, AppError> {
        let valid = validate_customer(input, self.today())?;
        self.check_branch(valid.branch_id).await?;
        let hits = self.state.db.key_hits(self.org, &valid.keys(), None).await?;
        if let MatchDecision::Merge { target, .. } = decide(&hits) {
            let taken = KeyKind::PRIORITY.into_iter().filter(|k| hits.get(*k).is_some());
            return Err(conflict(Some(target), taken));
        }
        let id = Uuid::now_v7();
        let stamp = self.stamp();
        let mut fields = Self::content_fields(&valid, stamp);
        fields.insert("is_active".into(), Stamped { value: true.into(), clock: stamp });
        match self.write(vec![self.change(ChangeBody::Customer { id, fields })], WriteMode::Strict).await {
            // Another writer took a key between the check and the write.
            Err(AppError::Conflict { existing: Some(target), .. }) => {
                let holder = self.get(target).await?;
                let (ours, theirs) = (valid.keys(), holder.keys());
                let taken: Vec<KeyKind> =
                    ours.iter().filter(|(k, v)| theirs.get(*k) == Some(*v)).map(|(k, _)| k).collect();
                Err(conflict(Some(target), taken))
            }
            Err(e) => Err(e),
            Ok(_) => self.get(id).await,
        }
    }

    /// Seed 2's find-or-create (and seed 1's manual add): the dedupe rule. No key hit creates;
    /// a hit merges the input into that customer (blanks filled, keys and origin kept) and,
    /// with `reactivate`, makes it active again. Keys of other customers open review items.
    pub async fn find_or_create(&self, input: &CustomerInput, reactivate: bool) -> Result<FoundOrCreated, AppError> {
        let valid = validate_customer(input, self.today())?;
        self.check_branch(valid.branch_id).await?;
        let hits = self.state.db.key_hits(self.org, &valid.keys(), None).await?;
        let decision = decide(&hits);
        let stamp = self.stamp();
        let mut fields = Self::content_fields(&valid, stamp);
        let (target, matched_by, conflicts) = match &decision {
            MatchDecision::Merge { target, matched_by, conflicts } => (*target, *matched_by, conflicts.clone()),
            MatchDecision::Create => {
                // No one holds these keys (as of the check): a new customer, merged by the
                // planner after all if another writer created the same person meanwhile.
                let id = Uuid::now_v7();
                fields.insert("is_active".into(), Stamped { value: true.into(), clock: stamp });
                let outcome =
                    self.write(vec![self.change(ChangeBody::Customer { id, fields })], WriteMode::Merge).await?;
                let (customer, created) = match outcome.first() {
                    Some(ChangeOutcome::MergedInto { target }) => (self.get(*target).await?, false),
                    _ => (self.get(id).await?, true),
                };
                return Ok(FoundOrCreated {
                    customer,
                    created,
                    matched_by: None,
                    reactivated: false,
                    possible_duplicates: vec![],
                });
            }
        };
        let existing = self.get(target).await?;
        let reactivated = reactivate && !existing.is_active;
        let mut changes = Vec::new();
        if conflicts.is_empty() {
            // One customer holds every hit key: an edit of it, no tombstone needed.
            let current = existing.to_fields();
            let merged = merge_into(&current, &fields, &decision.keys_owned_elsewhere(&hits));
            let mut update: FieldMap =
                merged.into_iter().filter(|(f, s)| current.get(f).map(|c| &c.value) != Some(&s.value)).collect();
            if reactivated {
                update.insert("is_active".into(), Stamped { value: true.into(), clock: stamp });
            }
            if !update.is_empty() {
                changes.push(self.change(ChangeBody::Customer { id: target, fields: update }));
            }
        } else {
            // Keys spread over several customers: the planner merges the record into the
            // target and opens a review item for each other holder.
            fields.insert("is_active".into(), Stamped { value: true.into(), clock: stamp });
            changes.push(self.change(ChangeBody::Customer { id: Uuid::now_v7(), fields }));
            if reactivated {
                let on = [("is_active".to_owned(), Stamped { value: true.into(), clock: self.stamp() })].into();
                changes.push(self.change(ChangeBody::Customer { id: target, fields: on }));
            }
        }
        let outcomes = self.write(changes, WriteMode::Merge).await?;
        let target = outcomes
            .iter()
            .find_map(|o| match o {
                ChangeOutcome::MergedInto { target } => Some(*target),
                _ => None,
            })
            .unwrap_or(target);
        Ok(FoundOrCreated {
            customer: self.get(target).await?,
            created: false,
            matched_by: Some(matched_by),
            reactivated,
            possible_duplicates: conflicts,
        })
    }

    /// Replaces the editable fields of a customer with `input` (PUT). Source and branch keep
    /// their values when not sent. An identifier held by another customer is refused (409).
    pub async fn update(&self, id: Uuid, input: &CustomerInput) -> Result<Customer, AppError> {
        let existing = self.get(id).await?;
        let mut input = input.clone();
        input.source.get_or_insert_with(|| existing.source.as_str().to_owned());
        input.branch_id = input.branch_id.or(existing.branch_id);
        let valid = validate_customer(&input, self.today())?;
        self.check_branch(valid.branch_id).await?;
        let hits = self.state.db.key_hits(self.org, &valid.keys(), Some(id)).await?;
        if let MatchDecision::Merge { target, .. } = decide(&hits) {
            let taken = KeyKind::PRIORITY.into_iter().filter(|k| hits.get(*k).is_some());
            return Err(conflict(Some(target), taken));
        }
        let current = existing.to_fields();
        let update: FieldMap = Self::content_fields(&valid, self.stamp())
            .into_iter()
            .filter(|(f, s)| current.get(f).map(|c| &c.value) != Some(&s.value))
            .collect();
        if !update.is_empty() {
            self.write(vec![self.change(ChangeBody::Customer { id, fields: update })], WriteMode::Merge).await?;
        }
        self.get(id).await
    }

    /// PATCH: the sent fields over the current ones (`null` clears an optional field).
    pub async fn patch(&self, id: Uuid, patch: &Map<String, Value>) -> Result<Customer, AppError> {
        let existing = self.get(id).await?;
        let mut form = serde_json::to_value(CustomerInput::from(&existing)).expect("input serialises");
        let mut errors = ValidationErrors::default();
        for (name, value) in patch {
            let field = match name.as_str() {
                "name" => "first_name",
                "branch" => "branch_id",
                other => other,
            };
            if field == "full_name" || form.get(field).is_some() {
                form[field] = value.clone();
            } else {
                errors.push(name.clone(), ErrorCode::InvalidChoice);
            }
        }
        if patch.contains_key("full_name") {
            form["first_name"] = Value::Null;
            form["surname"] = Value::Null;
        }
        errors.into_result(())?;
        let input: CustomerInput = serde_json::from_value(form)
            .map_err(|e| AppError::BadRequest(format!("a field has the wrong type: {e}")))?;
        self.update(id, &input).await
    }

    /// Soft delete / restore of many customers in one transaction.
    pub async fn set_active(&self, ids: &[Uuid], active: bool) -> Result<BulkResult, AppError> {
        let mut result = BulkResult::default();
        let mut changes = Vec::new();
        let mut seen = Vec::new();
        for &id in ids {
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            match self.state.db.customer(self.org, id).await? {
                Some(c) if c.merged_into.is_none() => {
                    if c.is_active == active {
                        result.unchanged += 1;
                    } else {
                        let field = [("is_active".to_owned(), Stamped { value: active.into(), clock: self.stamp() })];
                        changes.push(self.change(ChangeBody::Customer { id, fields: field.into() }));
                        result.updated += 1;
                    }
                }
                _ => result.not_found += 1,
            }
        }
        self.write(changes, WriteMode::Merge).await?;
        Ok(result)
    }

    /// Brings a buyer up to date with a purchase at `sold_at`: last activity moved forward, a
    /// soft-deleted buyer active again. Whether anything changed.
    pub async fn touch_activity(&self, c: &Customer, sold_at: chrono::DateTime<Utc>) -> Result<bool, AppError> {
        let stamp = self.stamp();
        let mut fields = FieldMap::new();
        if c.last_activity.is_none_or(|t| t < sold_at) {
            let value = serde_json::to_value(sold_at).expect("times serialise");
            fields.insert("last_activity".into(), Stamped { value, clock: stamp });
        }
        if !c.is_active {
            fields.insert("is_active".into(), Stamped { value: true.into(), clock: stamp });
        }
        if fields.is_empty() {
            return Ok(false);
        }
        self.write(vec![self.change(ChangeBody::Customer { id: c.id, fields })], WriteMode::Merge).await?;
        Ok(true)
    }

    /// The customer's preferences (the defaults until someone sets them).
    pub async fn preferences(&self, id: Uuid) -> Result<Preferences, AppError> {
        self.get(id).await?;
        Ok(self.state.db.preferences(self.org, id).await?.map(|(p, _)| p).unwrap_or_default())
    }

    /// Sets the sent preference fields (all of them for PUT).
    pub async fn set_preferences(
        &self,
        id: Uuid,
        sent: &Map<String, Value>,
        whole: bool,
    ) -> Result<Preferences, AppError> {
        let current = self.preferences(id).await?;
        let mut errors = ValidationErrors::default();
        for name in sent.keys().filter(|n| !PREFERENCE_FIELDS.contains(&n.as_str())) {
            errors.push(name.clone(), ErrorCode::InvalidChoice);
        }
        if whole {
            for name in PREFERENCE_FIELDS.iter().filter(|n| !sent.contains_key(**n) && **n != "contact_window") {
                errors.push(*name, ErrorCode::Required);
            }
        }
        errors.into_result(())?;
        let mut next = serde_json::to_value(&current).expect("preferences serialise");
        for (name, value) in sent {
            next[name] = value.clone();
        }
        if whole && !sent.contains_key("contact_window") {
            next["contact_window"] = Value::Null;
        }
        let next: Preferences = serde_json::from_value(next).map_err(|_| preference_error(&current, sent))?;
        let before = serde_json::to_value(&current).expect("preferences serialise");
        let after = serde_json::to_value(&next).expect("preferences serialise");
        let stamp = self.stamp();
        let fields: FieldMap = PREFERENCE_FIELDS
            .iter()
            .filter(|f| before.get(**f) != after.get(**f))
            .map(|f| ((*f).to_owned(), Stamped { value: after[*f].clone(), clock: stamp }))
            .collect();
        if !fields.is_empty() {
            self.write(vec![self.change(ChangeBody::Preferences { customer_id: id, fields })], WriteMode::Merge)
                .await?;
        }
        self.preferences(id).await
    }

    /// Quick lookup results.
    pub async fn quick_lookup(&self, q: &str, limit: u64) -> Result<Vec<(Customer, MatchedBy)>, AppError> {
        Ok(self.state.db.quick_lookup(self.org, q, limit).await?)
    }
}

/// Names every sent preference field whose value does not fit, trying each on its own.
fn preference_error(current: &Preferences, sent: &Map<String, Value>) -> AppError {
    let mut errors = ValidationErrors::default();
    for (name, value) in sent {
        let mut probe = serde_json::to_value(current).expect("preferences serialise");
        probe[name] = value.clone();
        if serde_json::from_value::<Preferences>(probe).is_err() {
            errors.push(name.clone(), ErrorCode::InvalidChoice);
        }
    }
    if errors.is_empty() {
        errors.push("preferences", ErrorCode::InvalidChoice);
    }
    AppError::Invalid(errors)
}
