//! The merge: which existing customer an incoming record is (the dedupe decision), and how two
//! versions of one customer's fields combine (field-level last-writer-wins under the HLC).

use crate::hlc::Hlc;
use crate::keys::KeyKind;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use uuid::Uuid;

/// A field value and the clock of the write that set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamped {
    pub value: Value,
    pub clock: Hlc,
}

/// Field name → stamped value: a whole record or a partial change.
pub type FieldMap = BTreeMap<String, Stamped>;

/// A field name or value that does not fit the record it was sent for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("field does not fit the record: {0}")]
pub struct FieldTypeError(pub String);

/// The fields `names` of a record, each stamped with its clock (`Hlc::ZERO` if never written).
pub fn record_fields<T: Serialize>(record: &T, names: &[&str], clocks: &BTreeMap<String, Hlc>) -> FieldMap {
    let Value::Object(obj) = serde_json::to_value(record).expect("records serialise") else {
        panic!("record_fields takes a struct");
    };
    names
        .iter()
        .map(|&f| {
            let value = obj.get(f).cloned().unwrap_or(Value::Null);
            let clock = clocks.get(f).copied().unwrap_or(Hlc::ZERO);
            (f.to_owned(), Stamped { value, clock })
        })
        .collect()
}

/// A copy of `record` with the values of `fields` set. Every name must be in `allowed` and every
/// value of the field's type; otherwise nothing is changed.
pub fn with_fields<T: Serialize + DeserializeOwned>(
    record: &T,
    allowed: &[&str],
    fields: &FieldMap,
) -> Result<T, FieldTypeError> {
    let Value::Object(mut obj) = serde_json::to_value(record).expect("records serialise") else {
        panic!("with_fields takes a struct");
    };
    for (name, stamped) in fields {
        if !allowed.contains(&name.as_str()) {
            return Err(FieldTypeError(format!("unknown field {name}")));
        }
        obj.insert(name.clone(), stamped.value.clone());
    }
    serde_json::from_value(Value::Object(obj)).map_err(|e| FieldTypeError(e.to_string()))
}

/// Total order on versions of one field: the later clock wins; equal clocks (which distinct
/// devices never produce) fall back to the value's text so the join stays a true semilattice.
fn newer(a: &Stamped, b: &Stamped) -> Ordering {
    a.clock.cmp(&b.clock).then_with(|| a.value.to_string().cmp(&b.value.to_string()))
}

/// Field-level last-writer-wins join of two versions of the same customer. Commutative,
/// associative and idempotent, so replicas converge whatever order changes arrive in.
pub fn join(a: &FieldMap, b: &FieldMap) -> FieldMap {
    let mut out = a.clone();
    for (name, theirs) in b {
        match out.get(name) {
            Some(ours) if newer(ours, theirs) != Ordering::Less => {}
            _ => {
                out.insert(name.clone(), theirs.clone());
            }
        }
    }
    out
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

/// How much a spelling says beyond its folded text: accented letters, then mixed case.
/// `"Juan Pérez"` ranks above `"juan perez"`, `"JUAN PEREZ"` and `"Juan Perez"`.
fn spelling_rank(s: &str) -> (usize, bool) {
    let accented = s.chars().filter(|c| !c.is_ascii() && c.is_alphabetic()).count();
    let mixed = s.chars().any(char::is_lowercase) && s.chars().any(char::is_uppercase);
    (accented, mixed)
}

/// Of two versions of one field that both hold a value, the one a dedupe merge keeps. The
/// choice depends only on the two versions, never on which record was there first, and is the
/// larger of the two under one total order per field, so merging the same captures in any
/// order keeps the same values (DESIGN.md I4):
/// - `is_active`: the target's (a capture never reactivates); `last_activity`: the later time;
///   `branch_id`, `source`: the earlier write's (where the person first came in);
/// - `first_name`, `surname`: the richer spelling (`"José Pérez"` over `"jose perez"`), then
///   the later write: two captures of one person differ in how carefully the name was typed,
///   and a lazy one must not undo a careful one (a name is corrected by an edit, not a capture);
/// - anything else: the later write.
fn merge_pick<'a>(name: &str, ours: &'a Stamped, theirs: &'a Stamped) -> &'a Stamped {
    match name {
        "is_active" => ours,
        "last_activity" => {
            let at = |s: &Stamped| s.value.as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
            if at(theirs) > at(ours) {
                theirs
            } else {
                ours
            }
        }
        "branch_id" | "source" => std::cmp::min_by(ours, theirs, |a, b| newer(a, b)),
        "first_name" | "surname" => {
            let rank = |s: &Stamped| (s.value.as_str().map(spelling_rank), s.clock, s.value.to_string());
            if rank(theirs) > rank(ours) {
                theirs
            } else {
                ours
            }
        }
        _ => std::cmp::max_by(ours, theirs, |a, b| newer(a, b)),
    }
}

/// Merges an incoming record `incoming` into the existing customer `target` (dedupe merge):
/// blank fields of the target are filled from the incoming record (a blank never replaces a
/// value); fields both hold follow [`merge_pick`] (last-writer-wins but for names and origin);
/// the target's key fields are never overwritten. Key fields listed in `keys_owned_elsewhere` belong to another customer and are
/// not copied. Each field keeps the clock of the version kept.
pub fn merge_into(target: &FieldMap, incoming: &FieldMap, keys_owned_elsewhere: &[KeyKind]) -> FieldMap {
    let mut out = target.clone();
    for (name, theirs) in incoming {
        let key = KeyKind::PRIORITY.into_iter().find(|k| k.field() == name);
        if key.is_some_and(|k| keys_owned_elsewhere.contains(&k)) || is_blank(&theirs.value) {
            continue;
        }
        let keep = match out.get(name) {
            None => theirs,
            Some(ours) if is_blank(&ours.value) => theirs,
            Some(ours) if key.is_some() => ours,
            Some(ours) => merge_pick(name, ours, theirs),
        }
        .clone();
        if out.get(name) != Some(&keep) {
            out.insert(name.clone(), keep);
        }
    }
    out
}

/// A terminal's version of a customer (or of its preferences) after pulling the server's
/// `remote` row: the server's state is the one every replica converges to, so it wins every
/// field except those a change of this terminal, not yet acknowledged, still carries; those
/// join as the server will join them when the change arrives. Once the terminal's outbox is
/// empty, a pulled row replaces the local one field for field (DESIGN.md I3), whatever the
/// server's merges did to the clocks.
pub fn rebase(remote: &FieldMap, local: &FieldMap, pending: impl Fn(&str) -> bool) -> FieldMap {
    let mine: FieldMap = local.iter().filter(|(name, _)| pending(name)).map(|(n, s)| (n.clone(), s.clone())).collect();
    join(remote, &mine)
}

/// For each key of an incoming record, the existing customer it hit (if any).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeyHits {
    pub phone: Option<Uuid>,
    pub email: Option<Uuid>,
    pub passport: Option<Uuid>,
    pub identification: Option<Uuid>,
}

impl KeyHits {
    pub fn get(&self, kind: KeyKind) -> Option<Uuid> {
        match kind {
            KeyKind::Phone => self.phone,
            KeyKind::Email => self.email,
            KeyKind::Passport => self.passport,
            KeyKind::Identification => self.identification,
        }
    }

    pub fn set(&mut self, kind: KeyKind, id: Option<Uuid>) {
        match kind {
            KeyKind::Phone => self.phone = id,
            KeyKind::Email => self.email = id,
            KeyKind::Passport => self.passport = id,
            KeyKind::Identification => self.identification = id,
        }
    }
}

/// "These two customers may be the same person": the incoming record's key `key` belongs to
/// `other`, while a higher-priority key sent it to the merge target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewConflict {
    pub key: KeyKind,
    pub other: Uuid,
}

/// What to do with an incoming record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatchDecision {
    /// No key hit: create a customer with the record's own id.
    Create,
    /// The first key in priority order that hit decides the target; keys that hit other
    /// customers stay with them and open review items.
    Merge { target: Uuid, matched_by: KeyKind, conflicts: Vec<ReviewConflict> },
}

impl MatchDecision {
    /// Keys the merge must not copy into the target because another customer owns them.
    pub fn keys_owned_elsewhere(&self, hits: &KeyHits) -> Vec<KeyKind> {
        match self {
            Self::Create => Vec::new(),
            Self::Merge { target, .. } => {
                KeyKind::PRIORITY.into_iter().filter(|&k| hits.get(k).is_some_and(|id| id != *target)).collect()
            }
        }
    }
}

/// The dedupe rule: phone → email → passport → identification; the first key that hits decides.
pub fn decide(hits: &KeyHits) -> MatchDecision {
    let Some((matched_by, target)) = KeyKind::PRIORITY.into_iter().find_map(|k| hits.get(k).map(|id| (k, id))) else {
        return MatchDecision::Create;
    };
    let mut conflicts: Vec<ReviewConflict> = Vec::new();
    for key in KeyKind::PRIORITY {
        // One review per other customer, named by the highest-priority key they share.
        if let Some(other) = hits.get(key).filter(|&id| id != target && !conflicts.iter().any(|c| c.other == id)) {
            conflicts.push(ReviewConflict { key, other });
        }
    }
    MatchDecision::Merge { target, matched_by, conflicts }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    fn st(v: Value, wall: u64) -> Stamped {
        Stamped { value: v, clock: Hlc { wall_ms: wall, counter: 0, node: 1 } }
    }

    #[test]
    fn no_hit_creates() {
        assert_eq!(decide(&KeyHits::default()), MatchDecision::Create);
    }

    #[test]
    fn phone_beats_email_and_opens_a_review() {
        let hits = KeyHits { phone: Some(id(1)), email: Some(id(2)), passport: Some(id(1)), identification: None };
        assert_eq!(
            decide(&hits),
            MatchDecision::Merge {
                target: id(1),
                matched_by: KeyKind::Phone,
                conflicts: vec![ReviewConflict { key: KeyKind::Email, other: id(2) }]
            }
        );
    }

    #[test]
    fn two_keys_of_the_same_other_customer_open_one_review() {
        let hits = KeyHits { phone: Some(id(1)), email: Some(id(2)), passport: Some(id(2)), identification: None };
        let MatchDecision::Merge { conflicts, .. } = decide(&hits) else { panic!() };
        assert_eq!(conflicts, vec![ReviewConflict { key: KeyKind::Email, other: id(2) }]);
        assert_eq!(decide(&hits).keys_owned_elsewhere(&hits), vec![KeyKind::Email, KeyKind::Passport]);
    }

    #[test]
    fn passport_decides_when_phone_and_email_miss() {
        let hits = KeyHits { passport: Some(id(3)), identification: Some(id(4)), ..Default::default() };
        let d = decide(&hits);
        assert!(matches!(d, MatchDecision::Merge { target, matched_by: KeyKind::Passport, .. } if target == id(3)));
        assert_eq!(d.keys_owned_elsewhere(&hits), vec![KeyKind::Identification]);
    }

    #[test]
    fn merge_into_fills_blanks_keeps_keys_and_takes_newer_values() {
        let target: FieldMap = [
            ("phone".to_owned(), st(json!("+584141234567"), 10)),
            ("email".to_owned(), st(Value::Null, 10)),
            ("city".to_owned(), st(json!("Caracas"), 10)),
            ("notes".to_owned(), st(json!("old"), 10)),
        ]
        .into();
        let incoming: FieldMap = [
            ("phone".to_owned(), st(json!("+584241234567"), 20)),
            ("email".to_owned(), st(json!("ana@x.com"), 5)),
            ("city".to_owned(), st(json!("Valencia"), 5)),
            ("notes".to_owned(), st(json!("new"), 20)),
            ("passport_number".to_owned(), st(json!("P12345"), 20)),
        ]
        .into();
        let merged = merge_into(&target, &incoming, &[KeyKind::Passport]);
        assert_eq!(merged["phone"].value, json!("+584141234567"), "key never overwritten");
        assert_eq!(merged["email"].value, json!("ana@x.com"), "blank filled even from an older write");
        assert_eq!(merged["city"].value, json!("Caracas"), "older write loses");
        assert_eq!(merged["notes"].value, json!("new"), "newer write wins");
        assert!(!merged.contains_key("passport_number"), "key owned by another customer stays there");
    }
}
