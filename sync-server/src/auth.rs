//! Authentication: argon2id passwords, short-lived HS256 access tokens with a pinned algorithm,
//! issuer and audience, rotating refresh tokens, and revocable device credentials; and the
//! extractors handlers use to learn who is calling.

use crate::error::AppError;
use crate::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use chrono::Utc;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub const ISSUER: &str = "pos-sync-server";
pub const AUDIENCE: &str = "pos-api";
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
pub const REFRESH_TTL_DAYS: i64 = 30;

pub use pos_core::Role;

pub use pos_core::password::verify_password;

/// The argon2id hash of `password` with a fresh random salt.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("system randomness");
    pos_core::password::hash_password(password, salt)
}

/// SHA-256 hex of a high-entropy secret (refresh tokens, device secrets, registration codes):
/// stored instead of the secret, so a database dump grants nothing.
pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// A random URL-safe secret of 32 bytes.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("system randomness");
    B64.encode(bytes)
}

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    pub org: Uuid,
    pub role: Role,
    pub iat: i64,
    pub exp: i64,
}

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Signs access tokens with the server's shared key. Only HS256 exists here, so no token can
/// choose its own algorithm.
#[derive(Clone)]
pub struct Jwt {
    key: Vec<u8>,
}

impl std::fmt::Debug for Jwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Jwt(..)")
    }
}

impl Jwt {
    pub fn new(key: Vec<u8>) -> Self {
        Self { key }
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key length")
    }

    pub fn issue(&self, user: Uuid, org: Uuid, role: Role) -> String {
        let now = Utc::now().timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user,
            org,
            role,
            iat: now,
            exp: now + ACCESS_TTL_SECS,
        };
        let signing_input =
            format!("{}.{}", B64.encode(HEADER), B64.encode(serde_json::to_vec(&claims).expect("claims serialise")));
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        format!("{signing_input}.{}", B64.encode(mac.finalize().into_bytes()))
    }

    /// Checks signature (constant time), header, issuer, audience and expiry.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let mut mac = self.mac();
        mac.update(header.as_bytes());
        mac.update(b".");
        mac.update(payload.as_bytes());
        mac.verify_slice(&B64.decode(signature).ok()?).ok()?;
        if B64.decode(header).ok()? != HEADER.as_bytes() {
            return None;
        }
        let claims: Claims = serde_json::from_slice(&B64.decode(payload).ok()?).ok()?;
        (claims.iss == ISSUER && claims.aud == AUDIENCE && claims.exp > Utc::now().timestamp()).then_some(claims)
    }
}

/// Who is calling: a signed-in user or a registered terminal. Every query is scoped by its
/// organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    User { id: Uuid, organization_id: Uuid, role: Role },
    Device { id: Uuid, organization_id: Uuid, branch_id: Option<Uuid> },
}

impl Principal {
    pub fn organization_id(&self) -> Uuid {
        match *self {
            Principal::User { organization_id, .. } | Principal::Device { organization_id, .. } => organization_id,
        }
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(AppError::Unauthorized)?;
        if let Some(token) = header.strip_prefix("Bearer ") {
            let claims = state.jwt.verify(token.trim()).ok_or(AppError::Unauthorized)?;
            return Ok(Principal::User { id: claims.sub, organization_id: claims.org, role: claims.role });
        }
        if let Some(credential) = header.strip_prefix("Device ") {
            let (id, secret) = credential.trim().split_once('.').ok_or(AppError::Unauthorized)?;
            let id: Uuid = id.parse().map_err(|_| AppError::Unauthorized)?;
            let device = state.db.device(id).await?.ok_or(AppError::Unauthorized)?;
            if device.revoked || device.secret_hash != digest(secret) {
                return Err(AppError::Unauthorized);
            }
            return Ok(Principal::Device { id, organization_id: device.organization_id, branch_id: device.branch_id });
        }
        Err(AppError::Unauthorized)
    }
}

/// A registered terminal (sync endpoints accept only devices).
#[derive(Debug, Clone, Copy)]
pub struct DeviceAuth {
    pub id: Uuid,
    pub organization_id: Uuid,
}

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        match Principal::from_request_parts(parts, state).await? {
            Principal::Device { id, organization_id, .. } => Ok(DeviceAuth { id, organization_id }),
            Principal::User { .. } => Err(AppError::Forbidden),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_and_tampering_fails() {
        let jwt = Jwt::new(b"k".repeat(32));
        let token = jwt.issue(Uuid::from_u128(1), Uuid::from_u128(2), Role::Manager);
        let claims = jwt.verify(&token).unwrap();
        assert_eq!((claims.sub, claims.org, claims.role), (Uuid::from_u128(1), Uuid::from_u128(2), Role::Manager));
        assert!(Jwt::new(b"x".repeat(32)).verify(&token).is_none(), "another key");
        let (head, rest) = token.split_once('.').unwrap();
        let none_alg = format!("{}.{}", B64.encode(r#"{"alg":"none","typ":"JWT"}"#), rest);
        assert!(jwt.verify(&none_alg).is_none(), "alg none");
        let mut forged = token.clone();
        forged.push('A');
        assert!(jwt.verify(&forged).is_none());
        let payload: Claims = serde_json::from_slice(&B64.decode(rest.split('.').next().unwrap()).unwrap()).unwrap();
        let admin = Claims { role: Role::Admin, ..payload };
        let escalated =
            format!("{head}.{}.{}", B64.encode(serde_json::to_vec(&admin).unwrap()), token.rsplit('.').next().unwrap());
        assert!(jwt.verify(&escalated).is_none(), "changed claims");
    }

    #[test]
    fn passwords_hash_with_argon2id() {
        let hash = hash_password("s3cret");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("s3cret", &hash));
        assert!(!verify_password("S3cret", &hash));
        assert!(!verify_password("s3cret", "garbage"));
    }
}
