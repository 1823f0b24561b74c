//! Sync for registered terminals: push outbox changes, pull the organisation's changes.

use super::extract::{ApiJson, ApiQuery};
use crate::auth::DeviceAuth;
use crate::error::AppError;
use crate::metrics::METRICS;
use crate::AppState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use pos_core::wire::{PullResponse, PushRequest, PushResponse};
use serde::Deserialize;

/// Largest push batch accepted; the client sends smaller ones.
pub const MAX_PUSH: usize = 1_000;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/sync/push", post(push)).route("/api/v1/sync/pull", get(pull))
}

async fn push(
    State(state): State<AppState>,
    device: DeviceAuth,
    ApiJson(req): ApiJson<PushRequest>,
) -> Result<Json<PushResponse>, AppError> {
    if req.changes.len() > MAX_PUSH {
        return Err(AppError::BadRequest(format!("at most {MAX_PUSH} changes per push")));
    }
    let answer = state.db.push(device.organization_id, device.id, &req.changes, &state.clock).await?;
    METRICS.record_push(&answer);
    Ok(Json(answer))
}

#[derive(Debug, Deserialize)]
struct PullQuery {
    #[serde(default)]
    cursor: i64,
    limit: Option<i64>,
}

async fn pull(
    State(state): State<AppState>,
    device: DeviceAuth,
    ApiQuery(q): ApiQuery<PullQuery>,
) -> Result<Json<PullResponse>, AppError> {
    let page = state.db.pull(device.organization_id, q.cursor, q.limit.unwrap_or(1_000)).await?;
    METRICS.record_pull(page.items.len());
    Ok(Json(page))
}
