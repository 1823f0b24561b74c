//! The store's typed errors: invalid input with field detail, duplicates naming the existing
//! customer, missing records, and database failures.

use pos_core::{KeyKind, ValidationErrors};
use serde::Serialize;
use uuid::Uuid;

/// An identifier that already belongs to another customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DuplicateKey {
    pub key: KeyKind,
    pub existing_id: Uuid,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    Invalid(#[from] ValidationErrors),
    #[error("another customer already has this identifier: {0:?}")]
    Duplicate(Vec<DuplicateKey>),
    #[error("customer {0} not found")]
    NotFound(Uuid),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}
