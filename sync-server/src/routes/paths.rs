//! Where the customer API is served: under both seeds' prefixes, each path with and without
//! its trailing slash.

use crate::AppState;
use axum::routing::MethodRouter;
use axum::Router;

/// Seed 2's prefix and seed 1's, which serve the same customer API.
pub const CUSTOMER_PREFIXES: [&str; 2] = ["/api/v1/customers", "/customers"];

/// Adds `path` (with its trailing slash, as the seeds write it) and the same path without it.
pub(super) fn both(router: Router<AppState>, path: &str, handler: MethodRouter<AppState>) -> Router<AppState> {
    router.route(path, handler.clone()).route(path.trim_end_matches('/'), handler)
}
