//! One error type for every handler, answered as one JSON shape:
//! `{"error": {"kind": …, "message": …, "fields": [...]}}` (a duplicate also names
//! `existing_id`). Internal errors are logged and answered without detail.

use crate::db::DbError;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use pos_core::ValidationErrors;
use serde_json::json;
use uuid::Uuid;

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
        let mut body = json!({ "error": { "kind": kind, "message": message } });
        if let Some(fields) = fields {
            body["error"]["fields"] = serde_json::to_value(fields).expect("errors serialise");
        }
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
