//! The central sync server: terminals push the changes they made offline, the server merges
//! them with the phone → email → passport → cédula rule (`plan`), and every terminal pulls the
//! merged state. `app(state)` is the whole HTTP surface; `main.rs` serves it and runs the admin
//! commands.

pub mod accounts;
pub mod auth;
pub mod customer_writes;
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

/// Turns transparent huge pages off for this process (Linux; elsewhere nothing), called first
/// in `main` (the runtime's threads exist by then, but the setting is the whole process's and
/// holds for every later page fault). A push allocates and frees tens of megabytes; where the
/// kernel backs memory with huge pages whenever it can (Debian's default), each first touch of
/// freshly mapped memory zeroed 2 MiB at a time, about a fifth of the merge planner's time
/// (see docs/performance.md). Failing to is harmless: it is
/// only slower.
pub fn without_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        eprintln!("warning: transparent huge pages stay on: {e}");
    }
}

/// Shared by every request. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub db: db::Db,
    pub jwt: auth::Jwt,
    /// The server's hybrid logical clock, advanced on every push.
    pub clock: Arc<Mutex<HlcClock>>,
    /// Verified against when a username is unknown, so sign-in timing reveals nothing.
    pub dummy_hash: Arc<str>,
    /// Read by [`app`] when it builds the router.
    pub limits: Limits,
}

/// How much a request may send and how long it may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Request bodies above this are answered 413.
    pub body_bytes: usize,
    /// Requests that take longer (reading the body included) are answered 503.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self { body_bytes: BODY_LIMIT, request_timeout: REQUEST_TIMEOUT }
    }
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
            limits: Limits::default(),
        })
    }
}

/// The default body limit (a terminal's push stays under half of it: `pos_sync::PUSH_BYTES`).
pub const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// The default request timeout. The work in flight is dropped with its transaction, so
/// nothing is half-written (a write already committing completes; its replay changes nothing).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole HTTP surface, with `state.limits`.
pub fn app(state: AppState) -> Router {
    let limits = state.limits;
    routes::all()
        .route_layer(axum::middleware::from_fn(metrics::track))
        .fallback(|| async { error::AppError::NotFound })
        .method_not_allowed_fallback(|| async { error::AppError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(limits.body_bytes))
        .layer(axum::middleware::from_fn_with_state(limits.request_timeout, timeout))
        .with_state(state)
}

/// Answers 503 in the one error shape when a request outlives `limit`.
async fn timeout(
    axum::extract::State(limit): axum::extract::State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => error::AppError::Timeout.into_response(),
    }
}
