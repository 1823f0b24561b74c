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
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
}

/// The wire form of a store error, as the desktop app and the CLI show it: tagged by `kind`,
/// with field detail for the caller's mistakes and nothing internal for ours.
impl Serialize for StoreError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        match self {
            Self::Invalid(errors) => {
                m.serialize_entry("kind", "invalid")?;
                m.serialize_entry("errors", errors)?;
            }
            Self::Duplicate(duplicates) => {
                m.serialize_entry("kind", "duplicate")?;
                m.serialize_entry("duplicates", duplicates)?;
            }
            Self::NotFound(id) => {
                m.serialize_entry("kind", "not_found")?;
                m.serialize_entry("id", id)?;
            }
            Self::Sqlite(_) | Self::Corrupt(_) | Self::Io(_) => m.serialize_entry("kind", "internal")?,
        }
        m.end()
    }
}

impl StoreError {
    /// Errors caused by the store itself rather than by what the caller sent: log these.
    pub fn is_internal(&self) -> bool {
        matches!(self, Self::Sqlite(_) | Self::Corrupt(_) | Self::Io(_))
    }
}
