//! The planner's indexes of a batch: who holds each key, and the ids touched in first-seen order.

use pos_core::KeyKind;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// The live customer holding each key value, per kind (looked up by `&str`, without allocating).
#[derive(Default)]
pub(super) struct KeyOwners([HashMap<String, Uuid>; 4]);

impl KeyOwners {
    /// Room for `n` values of each kind.
    pub(super) fn with_capacity(n: usize) -> Self {
        KeyOwners(std::array::from_fn(|_| HashMap::with_capacity(n)))
    }

    pub(super) fn owner(&self, kind: KeyKind, value: &str) -> Option<Uuid> {
        self.0[kind as usize].get(value).copied()
    }

    pub(super) fn set(&mut self, kind: KeyKind, value: &str, id: Uuid) {
        self.0[kind as usize].insert(value.to_owned(), id);
    }

    /// Frees `value` if `id` holds it.
    pub(super) fn release(&mut self, kind: KeyKind, value: &str, id: Uuid) {
        if self.owner(kind, value) == Some(id) {
            self.0[kind as usize].remove(value);
        }
    }
}

/// Ids in the order first seen, without repeats (a push of thousands touches thousands).
#[derive(Default)]
pub(super) struct FirstSeen {
    pub(super) order: Vec<Uuid>,
    seen: HashSet<Uuid>,
}

impl FirstSeen {
    pub(super) fn with_capacity(n: usize) -> Self {
        FirstSeen { order: Vec::with_capacity(n), seen: HashSet::with_capacity(n) }
    }

    pub(super) fn insert(&mut self, id: Uuid) {
        if self.seen.insert(id) {
            self.order.push(id);
        }
    }
}
