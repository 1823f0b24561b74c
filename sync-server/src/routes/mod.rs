//! HTTP handlers: parse, call the domain or the database, map errors. One router per area;
//! `extract` holds the extractors that turn bad input into the one error shape.

mod auth;
mod customers;
pub mod extract;
mod lookup;
mod manage;
pub mod openapi;
mod ops;
mod paging;
mod paths;
pub mod schemas;
mod sync;
pub mod views;

pub use auth::TokenPair;

use crate::AppState;
use axum::Router;

pub use paths::CUSTOMER_PREFIXES;

/// Every route of the server.
pub fn all() -> Router<AppState> {
    let mut router =
        Router::new().merge(auth::routes()).merge(sync::routes()).merge(ops::routes()).merge(openapi::routes());
    for prefix in CUSTOMER_PREFIXES {
        router = router.merge(customers::routes(prefix)).merge(lookup::routes(prefix)).merge(manage::routes(prefix));
    }
    router
}
