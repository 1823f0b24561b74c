//! The central merge as a pure function: given a batch of pushed changes and a snapshot of the
//! rows they can touch, decide every outcome and the rows to write. No I/O happens here; the
//! database layer loads the snapshot under the organisation's write lock and writes the plan in
//! the same transaction, so the decision and its effect commit together.

use chrono::{DateTime, SubsecRound, Utc};
use index::{FirstSeen, KeyOwners};
use pos_core::customer::MERGED_FIELDS;
use pos_core::keys::MatchKeys;
use pos_core::merge::{join, merge_into, with_fields, FieldMap, Stamped};
use pos_core::preferences::PREFERENCE_FIELDS;
use pos_core::sale::validate_sale;
use pos_core::validate::validate_customer;
use pos_core::wire::{Change, ChangeBody, ChangeOutcome, ChangeResult};
use pos_core::{
    decide, Customer, CustomerInput, ErrorCode, Hlc, HlcClock, KeyKind, MatchDecision, Preferences, Sale, SaleInput,
    ValidationErrors,
};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use uuid::Uuid;

/// Everything a batch can touch, as stored before it.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    /// Customers referenced by id or holding one of the batch's keys, and the targets of their
    /// merge chains.
    pub customers: HashMap<Uuid, Customer>,
    /// Change ids applied by earlier pushes, with their outcome.
    pub applied: HashMap<Uuid, ChangeOutcome>,
    pub preferences: HashMap<Uuid, (Preferences, BTreeMap<String, Hlc>)>,
    pub sale_ids: HashSet<Uuid>,
}

/// A suspected duplicate for a manager to review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub customer_a: Uuid,
    pub customer_b: Uuid,
    pub key: KeyKind,
}

/// A record merged into an existing customer, kept so nothing it carried is lost.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeLog {
    pub target_id: Uuid,
    pub source_id: Uuid,
    pub change_id: Uuid,
    pub data: FieldMap,
}

/// What to write.
#[derive(Debug, Default)]
pub struct Plan {
    pub results: Vec<ChangeResult>,
    /// Newly applied change ids (a replay is answered but not recorded again).
    pub applied: Vec<(Uuid, ChangeOutcome)>,
    /// Final state of every customer the batch changed, in first-touched order.
    pub customers: Vec<Customer>,
    /// The ones of `customers` that were not stored before the batch (new rows).
    pub created: HashSet<Uuid>,
    /// The ones of `customers` stored before whose keys the batch changed (the others' rows are
    /// rewritten without touching the key indexes).
    pub rekeyed: HashSet<Uuid>,
    pub preferences: Vec<(Uuid, Preferences, BTreeMap<String, Hlc>)>,
    pub sales: Vec<Sale>,
    pub reviews: Vec<Review>,
    pub merges: Vec<MergeLog>,
}

/// Plans `changes` pushed by `device` of `organization` against `snapshot`.
pub fn plan(
    organization: Uuid,
    device: Uuid,
    changes: &[Change],
    snapshot: Snapshot,
    clock: &mut HlcClock,
    now: DateTime<Utc>,
) -> Plan {
    // Stored times keep milliseconds, as every terminal stores them: a finer one would make each
    // terminal's copy of a row differ from the server's.
    let now = now.trunc_subsecs(3);
    let candidates = prepare_candidates(organization, device, changes, &snapshot, now);
    let mut planner = Planner::new(organization, snapshot, changes.len(), clock, now);
    for (change, candidate) in changes.iter().zip(candidates) {
        let outcome = match planner.snapshot.applied.get(&change.change_id) {
            Some(done) => {
                let done = done.clone();
                planner.reemit(change);
                done
            }
            None => {
                let outcome = if change.device_id != device {
                    Err(ValidationErrors::one("device_id", ErrorCode::InvalidChoice))
                } else {
                    planner.apply(change, candidate)
                };
                let outcome = outcome.unwrap_or_else(|errors| ChangeOutcome::Rejected { errors });
                planner.snapshot.applied.insert(change.change_id, outcome.clone());
                planner.plan.applied.push((change.change_id, outcome.clone()));
                outcome
            }
        };
        planner.plan.results.push(ChangeResult { change_id: change.change_id, outcome });
    }
    planner.finish()
}

/// A customer as its creating change alone makes it: a blank record with the change's fields,
/// checked, or the errors that refuse it.
type Candidate = Result<Customer, ValidationErrors>;

/// From this many changes a batch's candidates are prepared on two threads.
const CANDIDATES_APART_FROM: usize = 256;

/// The [`Candidate`] of every change that creates a customer as far as the snapshot knows
/// (`None` for the others), prepared before the batch's sequential pass, half of them on a
/// thread of their own: a new record's fields and validation depend on nothing else in the
/// batch, and they were about a third of planning. The pass uses one only where it reaches
/// [`Planner::create`] with the fields as pushed.
fn prepare_candidates(
    organization: Uuid,
    device: Uuid,
    changes: &[Change],
    snapshot: &Snapshot,
    now: DateTime<Utc>,
) -> Vec<Option<Candidate>> {
    let prepare = |change: &Change| match &change.body {
        ChangeBody::Customer { id, fields }
            if change.device_id == device
                && !snapshot.customers.contains_key(id)
                && !snapshot.applied.contains_key(&change.change_id) =>
        {
            Some(new_candidate(*id, organization, now, fields))
        }
        _ => None,
    };
    if changes.len() < CANDIDATES_APART_FROM {
        return changes.iter().map(prepare).collect();
    }
    let (first, second) = changes.split_at(changes.len() / 2);
    std::thread::scope(|scope| {
        let prepare = &prepare;
        // Where no thread can be had, the batch is prepared on this one (planning runs under
        // the server's clock lock, which a panic would poison for every later write).
        let theirs =
            std::thread::Builder::new().spawn_scoped(scope, move || second.iter().map(prepare).collect::<Vec<_>>());
        let mut all: Vec<_> = first.iter().map(prepare).collect();
        match theirs {
            Ok(theirs) => all.extend(theirs.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))),
            Err(_) => all.extend(second.iter().map(prepare)),
        }
        all
    })
}

/// The [`Candidate`] for a new customer `id` with `fields`.
fn new_candidate(id: Uuid, organization: Uuid, now: DateTime<Utc>, fields: &FieldMap) -> Candidate {
    let mut candidate = Customer::blank(id, organization, now);
    candidate.set_fields(fields).map_err(|e| ValidationErrors::one(e.0, ErrorCode::InvalidChoice))?;
    check(&candidate, now)?;
    Ok(candidate)
}

/// Checks that the record is a valid customer with normalised keys, as the terminal's own
/// validation would have left it. Every problem is reported at once.
fn check(c: &Customer, now: DateTime<Utc>) -> Result<(), ValidationErrors> {
    let validated = validate_customer(&CustomerInput::from(c), now.date_naive());
    // Each key's normal form: validation's own when it passed (phone numbers are parsed
    // once), else each key normalised alone. A blank key has none: "" is not a phone.
    let (mut errors, normal) = match validated {
        Ok(valid) => (ValidationErrors::default(), valid.keys()),
        Err(errors) => (
            errors,
            MatchKeys::from_raw(
                c.phone.as_deref(),
                c.email.as_deref(),
                c.passport_number.as_deref(),
                c.identification.as_deref(),
            ),
        ),
    };
    for (kind, stored) in c.keys().iter() {
        // A malformed key already carries its own error.
        if errors.code_for(kind.field()).is_none() && normal.get(kind) != Some(stored) {
            errors.push(kind.field(), ErrorCode::NotNormalized);
        }
    }
    errors.into_result(())
}

struct Planner<'a> {
    organization: Uuid,
    snapshot: Snapshot,
    clock: &'a mut HlcClock,
    now: DateTime<Utc>,
    now_ms: u64,
    keys: KeyOwners,
    touched: FirstSeen,
    prefs_touched: FirstSeen,
    plan: Plan,
}

type Outcome = Result<ChangeOutcome, ValidationErrors>;

impl<'a> Planner<'a> {
    /// A planner for a batch of `changes` changes. Its maps and lists are sized for the batch up
    /// front: grown by doubling, a push's were reallocated a dozen times each, every copy of a
    /// map of customers in fresh memory the kernel zeroes first.
    fn new(
        organization: Uuid,
        mut snapshot: Snapshot,
        changes: usize,
        clock: &'a mut HlcClock,
        now: DateTime<Utc>,
    ) -> Self {
        // Each change adds at most a customer and its tombstone.
        snapshot.customers.reserve(2 * changes);
        let mut keys = KeyOwners::with_capacity(snapshot.customers.len() + changes);
        for c in snapshot.customers.values().filter(|c| c.merged_into.is_none()) {
            for (kind, value) in c.keys().iter() {
                keys.set(kind, value, c.id);
            }
        }
        Self {
            organization,
            snapshot,
            clock,
            now,
            now_ms: now.timestamp_millis().max(0) as u64,
            keys,
            touched: FirstSeen::with_capacity(2 * changes),
            prefs_touched: FirstSeen::default(),
            plan: Plan {
                results: Vec::with_capacity(changes),
                applied: Vec::with_capacity(changes),
                customers: Vec::with_capacity(2 * changes),
                created: HashSet::with_capacity(2 * changes),
                ..Plan::default()
            },
        }
    }

    fn finish(mut self) -> Plan {
        // The snapshot ends here: its rows move into the plan.
        for id in std::mem::take(&mut self.touched).order {
            if let Some(c) = self.snapshot.customers.remove(&id) {
                self.plan.customers.push(c);
            }
        }
        for id in std::mem::take(&mut self.prefs_touched).order {
            if let Some((p, clocks)) = self.snapshot.preferences.remove(&id) {
                self.plan.preferences.push((id, p, clocks));
            }
        }
        self.plan
    }

    fn apply(&mut self, change: &Change, candidate: Option<Candidate>) -> Outcome {
        match &change.body {
            ChangeBody::Customer { id, fields } => {
                let fields = self.restamp(fields);
                // A candidate holds the clocks as pushed: one restamped makes it stale.
                let candidate = candidate.filter(|_| matches!(fields, Cow::Borrowed(_)));
                self.apply_customer(change.change_id, *id, &fields, candidate)
            }
            ChangeBody::Preferences { customer_id, fields } => {
                let fields = self.restamp(fields);
                self.apply_preferences(*customer_id, &fields)
            }
            ChangeBody::Sale { sale } => self.apply_sale(sale),
        }
    }

    /// Folds the device's clocks into ours; a clock too far ahead is replaced by ours, so a
    /// terminal with a wrong clock cannot win every later conflict. The fields are copied only
    /// then: copying every change's fields was about a tenth of planning.
    fn restamp<'f>(&mut self, fields: &'f FieldMap) -> Cow<'f, FieldMap> {
        let mut restamped = Vec::new();
        for (name, stamped) in fields {
            if self.clock.observe(stamped.clock, self.now_ms).is_err() {
                restamped.push((name, self.clock.tick(self.now_ms)));
            }
        }
        self.clock.tick(self.now_ms);
        let mut fields = Cow::Borrowed(fields);
        for (name, clock) in restamped {
            fields.to_mut().get_mut(name).expect("a field of this map").clock = clock;
        }
        fields
    }

    /// Follows merge links to the live customer.
    fn resolve(&self, id: Uuid) -> Option<Uuid> {
        let mut current = self.snapshot.customers.get(&id)?;
        for _ in 0..16 {
            match current.merged_into {
                None => return Some(current.id),
                Some(next) => current = self.snapshot.customers.get(&next)?,
            }
        }
        None
    }

    fn touch(&mut self, id: Uuid) {
        self.touched.insert(id);
    }

    /// Stores `customer`, re-indexing its keys. Every change the planner answers puts the rows
    /// it is about, changed or not, so they take a new sequence number: a terminal rebases
    /// pulled rows over its unacknowledged changes ([`pos_core::merge::rebase`]), and after the
    /// answer it must pull the server's decision once more, whether or not the change moved it
    /// (a key left with its owner, a blank the merge kept, a clock restamped, a lost answer).
    fn put(&mut self, customer: Customer) {
        let keys = customer.keys();
        match self.snapshot.customers.get(&customer.id) {
            // Not stored before the batch, nor put earlier in it: a new row.
            None => {
                self.plan.created.insert(customer.id);
            }
            Some(old) => {
                let old_keys = old.keys();
                if old_keys != keys && !self.plan.created.contains(&customer.id) {
                    self.plan.rekeyed.insert(customer.id);
                }
                for (kind, value) in old_keys.iter() {
                    self.keys.release(kind, value, old.id);
                }
            }
        }
        if customer.merged_into.is_none() {
            for (kind, value) in keys.iter() {
                self.keys.set(kind, value, customer.id);
            }
        }
        self.touch(customer.id);
        self.snapshot.customers.insert(customer.id, customer);
    }

    fn owner(&self, kind: KeyKind, value: &str) -> Option<Uuid> {
        self.keys.owner(kind, value)
    }

    fn apply_customer(
        &mut self,
        change_id: Uuid,
        id: Uuid,
        fields: &FieldMap,
        candidate: Option<Candidate>,
    ) -> Outcome {
        if let Some(unknown) = fields.keys().find(|f| !MERGED_FIELDS.contains(&f.as_str())) {
            return Err(ValidationErrors::one(unknown.clone(), ErrorCode::InvalidChoice));
        }
        match self.snapshot.customers.get(&id).cloned() {
            Some(existing) if existing.merged_into.is_none() => self.edit(existing, fields),
            Some(_) => {
                // An edit of a customer that was merged away lands on the survivor, as a merge.
                let target = self.resolve(id).ok_or_else(|| ValidationErrors::one("id", ErrorCode::NotFound))?;
                self.merge_record(change_id, id, target, fields.clone(), &[])?;
                Ok(ChangeOutcome::MergedInto { target })
            }
            None => self.create(change_id, id, fields, candidate),
        }
    }

    /// An edit of a live customer: field-level last-writer-wins. A key the edit gives it that
    /// another customer holds follows the create path's cross-key rule: the key stays with its
    /// owner, a review item names both, and the rest of the edit applies (the terminal that
    /// filled it, not knowing the owner, could do nothing right with a rejection).
    fn edit(&mut self, existing: Customer, fields: &FieldMap) -> Outcome {
        let mut joined = join(&existing.to_fields(), fields);
        let mut next = existing.clone();
        next.set_fields(&joined).map_err(|e| ValidationErrors::one(e.0, ErrorCode::InvalidChoice))?;
        check(&next, self.now)?;
        let taken: Vec<(KeyKind, Uuid)> = next
            .keys()
            .iter()
            .filter_map(|(kind, value)| self.owner(kind, value).filter(|&o| o != existing.id).map(|o| (kind, o)))
            .collect();
        if !taken.is_empty() {
            let before = existing.to_fields();
            for (kind, owner) in taken {
                joined.insert(kind.field().to_owned(), before[kind.field()].clone());
                self.review(existing.id, owner, kind);
            }
            next = existing.clone();
            next.set_fields(&joined).map_err(|e| ValidationErrors::one(e.0, ErrorCode::InvalidChoice))?;
            check(&next, self.now)?;
        }
        if next != existing {
            next.updated_at = self.now;
        }
        self.put(next);
        Ok(ChangeOutcome::Applied)
    }

    /// Opens a review item for `a` and `b` sharing `key`, once per pair in a batch.
    fn review(&mut self, a: Uuid, b: Uuid, key: KeyKind) {
        let pair = |r: &Review| (r.customer_a == a && r.customer_b == b) || (r.customer_a == b && r.customer_b == a);
        if !self.plan.reviews.iter().any(pair) {
            self.plan.reviews.push(Review { customer_a: a, customer_b: b, key });
        }
    }

    /// Writes again the rows a change already answered is about, so a terminal that pulled
    /// them while its answer was lost pulls them once more after it (see [`Planner::put`]).
    fn reemit(&mut self, change: &Change) {
        let id = match &change.body {
            ChangeBody::Customer { id, .. } => *id,
            ChangeBody::Preferences { customer_id, .. } => {
                self.prefs_touched.insert(*customer_id);
                if let Some(target) = self.resolve(*customer_id) {
                    self.prefs_touched.insert(target);
                }
                *customer_id
            }
            ChangeBody::Sale { sale } => sale.customer_id,
        };
        if self.snapshot.customers.contains_key(&id) {
            self.touch(id);
        }
        if let Some(target) = self.resolve(id) {
            self.touch(target);
        }
    }

    /// Creates customer `id` from `fields`, or merges it into the customer one of its keys
    /// finds; `prepared` is its [`Candidate`] when one was built from these very fields.
    fn create(&mut self, change_id: Uuid, id: Uuid, fields: &FieldMap, prepared: Option<Candidate>) -> Outcome {
        let mut candidate = match prepared {
            Some(prepared) => prepared?,
            None => new_candidate(id, self.organization, self.now, fields)?,
        };
        // Captured when its fields were first written (the terminal's clock, already bounded by
        // `restamp`), not when the terminal came back online.
        let captured =
            fields.values().map(|s| s.clock.wall_ms).min().and_then(|ms| DateTime::from_timestamp_millis(ms as i64));
        candidate.created_at = captured.filter(|t| *t <= self.now).unwrap_or(self.now);
        let mut hits = pos_core::KeyHits::default();
        for (kind, value) in candidate.keys().iter() {
            hits.set(kind, self.owner(kind, value));
        }
        let decision = decide(&hits);
        match decision {
            MatchDecision::Create => {
                self.put(candidate);
                Ok(ChangeOutcome::Applied)
            }
            MatchDecision::Merge { target, .. } => {
                let owned_elsewhere = decision.keys_owned_elsewhere(&hits);
                if let MatchDecision::Merge { conflicts, .. } = &decision {
                    for c in conflicts {
                        self.review(target, c.other, c.key);
                    }
                }
                self.merge_record(change_id, id, target, candidate.to_fields(), &owned_elsewhere)?;
                Ok(ChangeOutcome::MergedInto { target })
            }
        }
    }

    /// Merges record `source` into live customer `target` and keeps `source` as a tombstone
    /// pointing at it (without keys), so later references to `source` find the survivor. Its
    /// `fields` go to the merge log.
    fn merge_record(
        &mut self,
        change_id: Uuid,
        source: Uuid,
        target: Uuid,
        fields: FieldMap,
        owned_elsewhere: &[KeyKind],
    ) -> Result<(), ValidationErrors> {
        let existing = self
            .snapshot
            .customers
            .get(&target)
            .cloned()
            .ok_or_else(|| ValidationErrors::one("id", ErrorCode::NotFound))?;
        // A key the target gains must not belong to anyone else.
        let mut owned: Vec<KeyKind> = owned_elsewhere.to_vec();
        for kind in KeyKind::PRIORITY {
            if let Some(Stamped { value: serde_json::Value::String(v), .. }) = fields.get(kind.field()) {
                if self.owner(kind, v).is_some_and(|o| o != target) && !owned.contains(&kind) {
                    owned.push(kind);
                }
            }
        }
        let merged = merge_into(&existing.to_fields(), &fields, &owned);
        let mut next = existing.clone();
        next.set_fields(&merged).map_err(|e| ValidationErrors::one(e.0, ErrorCode::InvalidChoice))?;
        if next != existing {
            next.updated_at = self.now;
        }
        self.put(next);
        if !self.snapshot.customers.contains_key(&source) {
            let mut tombstone = existing;
            tombstone.id = source;
            tombstone.phone = None;
            tombstone.email = None;
            tombstone.identification = None;
            tombstone.passport_number = None;
            tombstone.merged_into = Some(target);
            tombstone.is_active = false;
            tombstone.created_at = self.now;
            tombstone.updated_at = self.now;
            self.put(tombstone);
        }
        self.plan.merges.push(MergeLog { target_id: target, source_id: source, change_id, data: fields });
        Ok(())
    }

    fn apply_preferences(&mut self, customer_id: Uuid, fields: &FieldMap) -> Outcome {
        let target =
            self.resolve(customer_id).ok_or_else(|| ValidationErrors::one("customer_id", ErrorCode::NotFound))?;
        let (current, clocks) = self.snapshot.preferences.get(&target).cloned().unwrap_or_default();
        let joined = join(&pos_core::merge::record_fields(&current, &PREFERENCE_FIELDS, &clocks), fields);
        let next: Preferences = with_fields(&current, &PREFERENCE_FIELDS, &joined)
            .map_err(|e| ValidationErrors::one(e.0, ErrorCode::InvalidChoice))?;
        let next_clocks = joined.iter().map(|(f, s)| (f.clone(), s.clock)).collect();
        self.snapshot.preferences.insert(target, (next, next_clocks));
        self.prefs_touched.insert(target);
        // The change was about `customer_id`'s preferences: where those are a merged-away
        // customer's own row, the terminal that wrote them pulls the server's again.
        self.prefs_touched.insert(customer_id);
        Ok(if target == customer_id { ChangeOutcome::Applied } else { ChangeOutcome::MergedInto { target } })
    }

    fn apply_sale(&mut self, sale: &Sale) -> Outcome {
        if self.snapshot.sale_ids.contains(&sale.id) {
            return Ok(ChangeOutcome::Applied);
        }
        let input = SaleInput {
            lines: sale.lines.clone(),
            total_minor: Some(sale.total_minor),
            currency: sale.currency.clone(),
            payment_method: sale.payment_method,
        };
        validate_sale(&input)?;
        let customer_id =
            self.resolve(sale.customer_id).ok_or_else(|| ValidationErrors::one("customer_id", ErrorCode::NotFound))?;
        let stored = Sale { organization_id: self.organization, customer_id, ..sale.clone() };
        if let Some(mut customer) = self.snapshot.customers.get(&customer_id).cloned() {
            if customer.last_activity.is_none_or(|t| t < stored.sold_at) {
                customer.last_activity = Some(stored.sold_at);
                customer.clocks.insert("last_activity".into(), self.clock.tick(self.now_ms));
            }
            // Written even when unchanged: the terminal moved its own copy's last activity.
            self.put(customer);
        }
        self.snapshot.sale_ids.insert(stored.id);
        self.plan.sales.push(stored);
        Ok(ChangeOutcome::Applied)
    }
}

mod index;
#[cfg(test)]
mod tests;
