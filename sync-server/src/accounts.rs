//! Accounts and terminals: users with hashed passwords, one-time registration codes, and the
//! registration that turns a code into a device credential. The HTTP handlers and the admin
//! CLI both call these.

use crate::auth::{digest, hash_password, random_secret, Role};
use crate::error::AppError;
use crate::AppState;
use chrono::{Duration, Utc};
use pos_core::{ErrorCode, ValidationErrors};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A terminal's registration: its credential (`<device id>.<secret>`), shown once.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Registration {
    pub device_id: Uuid,
    pub organization_id: Uuid,
    pub branch_id: Option<Uuid>,
    pub credential: String,
}

/// Spends the one-time `code` to register the terminal `name`, known by `device_id` (a new id
/// when `None`); a code that is unknown, spent or expired is refused naming `code`.
pub async fn register_device(
    state: &AppState,
    code: &str,
    name: &str,
    device_id: Option<Uuid>,
) -> Result<Registration, AppError> {
    let secret = random_secret();
    let device_id = device_id.unwrap_or_else(Uuid::now_v7);
    let device = state.db.register_device(&digest(&normalize_code(code)), device_id, name, &digest(&secret)).await?;
    let device = device.ok_or_else(|| AppError::Invalid(ValidationErrors::one("code", ErrorCode::InvalidChoice)))?;
    Ok(Registration {
        device_id: device.id,
        organization_id: device.organization_id,
        branch_id: device.branch_id,
        credential: format!("{}.{secret}", device.id),
    })
}

/// Creates the user with a hashed password (used by the admin CLI and tests).
pub async fn create_user(
    state: &AppState,
    org: Uuid,
    username: &str,
    password: &str,
    role: Role,
) -> Result<Uuid, AppError> {
    Ok(state.db.create_user(org, username, &hash_password(password), role.as_str()).await?)
}

/// Issues a one-time terminal registration code valid for `days`, easy to read out and type:
/// `K7QM-2XPD-9HRT` (no 0/O or 1/I to confuse).
pub async fn issue_registration_code(
    state: &AppState,
    org: Uuid,
    branch: Option<Uuid>,
    days: i64,
) -> Result<String, AppError> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| AppError::BadRequest(format!("no randomness: {e}")))?;
    let chars: Vec<char> = bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect();
    let code = chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-");
    state
        .db
        .create_registration_code(&digest(&normalize_code(&code)), org, branch, Utc::now() + Duration::days(days))
        .await?;
    Ok(code)
}

/// Codes are compared without case, spaces or dashes.
fn normalize_code(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}
