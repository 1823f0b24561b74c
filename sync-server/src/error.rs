//! One error type for every handler, answered as one JSON shape:
//! `{"error": {"kind": …, "message": …, "fields": {"phone": [{code, message, message_es}]}}}`.
//! `fields` is on every answer (`{}` when no field is at fault); a duplicate also names
//! `existing_id`. Internal errors are logged and answered without detail.

use crate::db::DbError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use pos_core::ValidationErrors;
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// One error of one field, with its messages in English and Spanish.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldErrorBody {
    /// Stable code: `required`, `phone_invalid`, `identification_invalid`, `duplicate`, …
    pub code: String,
    pub message: String,
    pub message_es: String,
}

/// Field name → that field's errors, the `fields` of an error answer and the `errors` of
/// `validate/`.
pub type FieldErrorMap = BTreeMap<String, Vec<FieldErrorBody>>;

/// Groups `errors` by field, keeping each field's errors in the order they were found.
pub fn field_error_map(errors: &ValidationErrors) -> FieldErrorMap {
    let mut map = FieldErrorMap::new();
    for e in &errors.0 {
        map.entry(e.field.clone()).or_default().push(FieldErrorBody {
            code: e.code.as_str().to_owned(),
            message: e.code.message(pos_core::Lang::En).to_owned(),
            message_es: e.code.message(pos_core::Lang::Es).to_owned(),
        });
    }
    map
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("invalid input")]
    Invalid(ValidationErrors),
    #[error("authentication required")]
    Unauthorized,
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A strict create or an edit named an identifier another customer holds.
    #[error("duplicate of {existing:?}")]
    Conflict { existing: Option<Uuid>, fields: ValidationErrors },
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("the request took too long")]
    Timeout,
    #[error(transparent)]
    Db(DbError),
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Duplicate { existing } => {
                AppError::Conflict { existing: Some(existing), fields: Default::default() }
            }
            other => AppError::Db(other),
        }
    }
}

impl From<ValidationErrors> for AppError {
    fn from(e: ValidationErrors) -> Self {
        AppError::Invalid(e)
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut existing_id = None;
        let (status, kind, message, fields) = match &self {
            AppError::Invalid(errors) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid", "Some fields are not valid.".to_owned(), Some(errors))
            }
            AppError::Unauthorized => {
                (StatusCode::UNAUTHORIZED, "unauthorized", "Sign in or register this terminal first.".to_owned(), None)
            }
            AppError::Forbidden => {
                (StatusCode::FORBIDDEN, "forbidden", "Your role does not allow this.".to_owned(), None)
            }
            AppError::NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found.".to_owned(), None),
            AppError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This path does not take that method.".to_owned(),
                None,
            ),
            AppError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m.clone(), None),
            AppError::Conflict { existing, fields } => {
                existing_id = *existing;
                let message = "A customer with this identifier already exists.".to_owned();
                (StatusCode::CONFLICT, "duplicate", message, Some(fields))
            }
            AppError::PayloadTooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, "too_large", "The request body is too large.".to_owned(), None)
            }
            AppError::Timeout => {
                (StatusCode::SERVICE_UNAVAILABLE, "timeout", "The request took too long; try again.".to_owned(), None)
            }
            AppError::Db(e) => {
                tracing::error!(error = %e, "database error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal", "Something went wrong on the server.".to_owned(), None)
            }
        };
        let fields = fields.map(field_error_map).unwrap_or_default();
        let mut body = json!({ "error": { "kind": kind, "message": message, "fields": fields } });
        if let Some(id) = existing_id {
            body["error"]["existing_id"] = json!(id);
        }
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}
