//! Sync for registered terminals: push outbox changes, pull the organisation's changes.

use super::extract::{ApiJson, ApiQuery};
use crate::auth::DeviceAuth;
use crate::error::AppError;
use crate::metrics::METRICS;
use crate::AppState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use pos_core::wire::{PullResponse, PushRequest, PushResponse, MAX_PUSH_CHANGES};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/sync/push", post(push)).route("/api/v1/sync/pull", get(pull))
}

/// Push outbox changes (terminals)
///
/// Each change is applied exactly once and answered: applied, merged into another customer,
/// or rejected with field errors. At most 5,000 changes per push.
#[utoipa::path(post, path = "/api/v1/sync/push", tag = "sync",
    request_body(content = Object, description = "`{\"changes\": [Change]}` (pos-core wire types)"),
    responses((status = 200, description = "One result per change, in order", body = Object)))]
pub(super) async fn push(
    State(state): State<AppState>,
    device: DeviceAuth,
    ApiJson(req): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, AppError> {
    if req.changes.len() > MAX_PUSH_CHANGES {
        return Err(AppError::BadRequest(format!("at most {MAX_PUSH_CHANGES} changes per push")));
    }
    let answer = state.db.push(device.organization_id, device.id, req.changes, &state.clock).await?;
    METRICS.record_push(&answer);
    Ok(Json(answer))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PullQuery {
    /// The cursor of the last page applied (0 to bootstrap).
    #[serde(default)]
    cursor: i64,
    /// Items per page (default 1,000, at most 5,000).
    limit: Option<i64>,
}

/// Pull changes after a cursor (terminals)
#[utoipa::path(get, path = "/api/v1/sync/pull", tag = "sync", params(PullQuery),
    responses((status = 200, description = "`{items, cursor, has_more}`", body = Object)))]
pub(super) async fn pull(
    State(state): State<AppState>,
    device: DeviceAuth,
    ApiQuery(q): ApiQuery<PullQuery>,
) -> Result<Json<PullResponse>, AppError> {
    let page = state.db.pull(device.organization_id, q.cursor, q.limit.unwrap_or(1_000)).await?;
    METRICS.record_pull(page.items.len());
    Ok(Json(page))
}
