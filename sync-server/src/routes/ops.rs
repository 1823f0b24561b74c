//! Operations: `/healthz` (the database answers) and `/metrics` (Prometheus text).

use crate::error::AppError;
use crate::metrics::METRICS;
use crate::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics))
}

/// Health: the database answers
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "`{status, database}`", body = Object)))]
pub(super) async fn healthz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, AppError> {
    state.db.ping().await?;
    Ok(Json(json!({ "status": "ok", "database": state.db.backend_name() })))
}

/// Prometheus metrics
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Text exposition", content_type = "text/plain")))]
pub(super) async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, AppError> {
    let open = state.db.open_review_items_total().await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], METRICS.render(open)))
}
