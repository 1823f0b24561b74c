//! The central sync server: terminals push the changes they made offline, the server merges
//! them with the phone → email → passport → cédula rule (`plan`), and every terminal pulls the
//! merged state. `app(state)` is the whole HTTP surface; `main.rs` serves it and runs the admin
//! commands.

pub mod auth;
pub mod customers;
pub mod db;
pub mod error;
pub mod metrics;
pub mod plan;
pub mod routes;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use pos_core::{Hlc, HlcClock};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Shared by every request. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: db::Db,
    pub jwt: auth::Jwt,
    /// The server's hybrid logical clock, advanced on every push.
    pub clock: Arc<Mutex<HlcClock>>,
    /// Verified against when a username is unknown, so sign-in timing reveals nothing.
    pub dummy_hash: Arc<str>,
}

impl AppState {
    /// State over `db`, with the signing key every instance on that database shares.
    pub async fn new(db: db::Db) -> Result<Self, db::DbError> {
        let key = db.shared_secret("jwt_hs256").await?;
        // Each instance is its own clock node.
        let node = uuid::Uuid::now_v7().as_u64_pair().1;
        Ok(Self {
            db,
            jwt: auth::Jwt::new(key),
            clock: Arc::new(Mutex::new(HlcClock::new(node, Hlc::ZERO))),
            dummy_hash: auth::hash_password("not a real password").into(),
        })
    }
}

/// Request bodies above this are refused (a push of 1,000 changes is well under it).
pub const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// Requests that take longer are answered 503 (the work in flight is dropped with its
/// transaction, so nothing is half-written).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

pub fn app(state: AppState) -> Router {
    routes::all()
        .route_layer(axum::middleware::from_fn(metrics::track))
        .fallback(|| async { error::AppError::NotFound })
        .method_not_allowed_fallback(|| async { error::AppError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(timeout))
        .with_state(state)
}

/// Answers 503 in the one error shape when a request outlives [`REQUEST_TIMEOUT`].
async fn timeout(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => error::AppError::Timeout.into_response(),
    }
}
