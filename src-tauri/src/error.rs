//! The error every command returns: typed, and serialised for the window as tagged JSON
//! (`{"kind": …}` plus field detail), never as a bare string. Internal failures are logged and
//! reach the window only as `{"kind": "internal"}`.

use pos_store::StoreError;
use pos_sync::SyncError;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sync(#[from] SyncError),
    /// Something the person typed that cannot be used (a setting, a sign-in), named by field and
    /// explained in both languages like the domain's field errors.
    #[error("invalid {field}: {en}")]
    Field { field: &'static str, en: &'static str, es: &'static str },
    #[error("nobody is signed in")]
    SignedOut,
    #[error("the signed-in user's role may not do this")]
    Forbidden,
    /// The user signed in while the server was out of reach; this needs a server session.
    #[error("signed in offline: sign in again with the server reachable")]
    SessionOffline,
    #[error("settings could not be saved: {0}")]
    Settings(String),
    #[error("the device credential could not be stored: {0}")]
    Credential(#[from] pos_credential::CredentialError),
}

impl Serialize for AppError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Store(e) => {
                if e.is_internal() {
                    tracing::error!("store: {e}");
                }
                e.serialize(s)
            }
            Self::Sync(e) => {
                let mut m = s.serialize_map(None)?;
                match e {
                    SyncError::Network(_) | SyncError::Transport(_) | SyncError::Busy => {
                        m.serialize_entry("kind", "offline")?
                    }
                    SyncError::Unauthorized => m.serialize_entry("kind", "unauthorized")?,
                    SyncError::Server { status, body } if *status < 500 => {
                        m.serialize_entry("kind", "refused")?;
                        m.serialize_entry("status", status)?;
                        m.serialize_entry("message", &server_message(body))?;
                    }
                    SyncError::Server { .. } | SyncError::Store(_) => {
                        tracing::error!("sync: {e}");
                        m.serialize_entry("kind", "internal")?;
                    }
                }
                m.end()
            }
            Self::SignedOut | Self::Forbidden | Self::SessionOffline => {
                let mut m = s.serialize_map(None)?;
                let kind = match self {
                    Self::SignedOut => "signed_out",
                    Self::Forbidden => "forbidden",
                    _ => "session_offline",
                };
                m.serialize_entry("kind", kind)?;
                m.end()
            }
            Self::Field { field, en, es } => {
                let mut m = s.serialize_map(None)?;
                m.serialize_entry("kind", "invalid")?;
                let error = serde_json::json!({ "field": field, "code": "invalid", "message": en, "message_es": es });
                m.serialize_entry("errors", &[error])?;
                m.end()
            }
            Self::Settings(_) | Self::Credential(_) => {
                tracing::error!("{self}");
                let mut m = s.serialize_map(None)?;
                m.serialize_entry("kind", "internal")?;
                m.end()
            }
        }
    }
}

/// The human message inside the server's `{"error": {"message": …}}` answer, if it has one.
fn server_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(200).collect())
}
