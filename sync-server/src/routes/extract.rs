//! Extractors that answer bad input in the one JSON error shape: JSON bodies (a value of the
//! wrong type names its field), query strings, path ids (an unparsable id is simply not found),
//! and the caller with its role.

use crate::auth::{Principal, Role};
use crate::customer_writes::Customers;
use crate::db::Actor;
use crate::error::AppError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use pos_core::{Action, ErrorCode, ValidationErrors};
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

/// A JSON body of type `T`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

/// Why a body did not deserialise, naming the top-level fields whose values do not fit.
pub(super) fn body_error<T: DeserializeOwned>(value: &Value, e: &serde_json::Error) -> AppError {
    let Value::Object(map) = value else {
        return AppError::BadRequest("the body must be a JSON object".into());
    };
    let mut errors = ValidationErrors::default();
    for (name, v) in map {
        let alone = Value::Object([(name.clone(), v.clone())].into_iter().collect());
        if let Err(e) = serde_json::from_value::<T>(alone) {
            if !e.to_string().starts_with("missing field") {
                errors.push(name.clone(), ErrorCode::InvalidChoice);
            }
        }
    }
    if errors.is_empty() {
        let text = e.to_string();
        match text.strip_prefix("missing field `").and_then(|t| t.split('`').next()) {
            Some(field) => errors.push(field, ErrorCode::Required),
            None => return AppError::BadRequest(format!("the body does not fit: {text}")),
        }
    }
    AppError::Invalid(errors)
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge
            } else {
                AppError::BadRequest("the body could not be read".into())
            }
        })?;
        let value: Value =
            serde_json::from_slice(&bytes).map_err(|e| AppError::BadRequest(format!("the body is not JSON: {e}")))?;
        match serde_json::from_value::<T>(value.clone()) {
            Ok(t) => Ok(ApiJson(t)),
            Err(e) => Err(body_error::<T>(&value, &e)),
        }
    }
}

/// A query string of type `T`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(t)| ApiQuery(t))
            .map_err(|e| AppError::BadRequest(format!("the query string does not fit: {}", e.body_text())))
    }
}

/// The `{id}` of a path. An id that is not a UUID names no customer: 404.
#[derive(Debug, Clone, Copy)]
pub struct PathId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for PathId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(id) = Path::<Uuid>::from_request_parts(parts, state).await.map_err(|_| AppError::NotFound)?;
        Ok(PathId(id))
    }
}

/// The caller of a REST endpoint: its organisation, who it is, and its role. A registered
/// terminal acts with a cashier's rights.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub org: Uuid,
    pub actor: Actor,
    pub role: Role,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(match Principal::from_request_parts(parts, state).await? {
            Principal::User { id, organization_id, role } => {
                Caller { org: organization_id, actor: Actor::User(id), role }
            }
            Principal::Device { id, organization_id, .. } => {
                Caller { org: organization_id, actor: Actor::Device(id), role: Role::Cashier }
            }
        })
    }
}

impl Caller {
    /// 403 unless the caller's role is at least `min`.
    pub fn require(&self, action: Action) -> Result<(), AppError> {
        if self.role.can(action) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The customer operations of this caller, when its role may do `action`.
    pub fn customers<'a>(&self, state: &'a AppState, action: Action) -> Result<Customers<'a>, AppError> {
        self.require(action)?;
        Ok(Customers { state, org: self.org, actor: self.actor })
    }
}
