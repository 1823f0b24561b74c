//! The request limits of `AppState::limits`, on both backends: a body that arrives too slowly
//! is answered 503 and one that is too large 413, both in the one error shape, and nothing
//! of either request is written.

#[allow(dead_code)]
mod client;
mod common;

use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use client::{person, Client, CASHIER};
use serde_json::json;
use std::time::Duration;
use sync_server::Limits;

/// A body that yields `json` only after `delay`, as a client on a stalled link sends it.
fn slow_body(json: String, delay: Duration) -> Body {
    Body::from_stream(futures_util::stream::once(async move {
        tokio::time::sleep(delay).await;
        Ok::<_, std::io::Error>(Bytes::from(json))
    }))
}

#[test]
fn the_defaults_are_the_served_limits() {
    let limits = Limits::default();
    assert_eq!((limits.body_bytes, limits.request_timeout), (8 * 1024 * 1024, Duration::from_secs(30)));
}

#[tokio::test]
async fn a_request_slower_than_the_timeout_is_503_and_writes_nothing() {
    for b in common::backends().await {
        let mut state = b.state.clone();
        state.limits.request_timeout = Duration::from_millis(200);
        let c = Client::new(&state, b.org).await;
        let body = person("Lenta", "Red", "04141234567").to_string();

        let (status, answer) =
            c.raw(&CASHIER, "POST", "/api/v1/customers/", slow_body(body.clone(), Duration::from_secs(2))).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
        assert_eq!(answer["error"]["kind"], "timeout");
        assert!(answer["error"]["message"].is_string());
        assert_eq!(answer["error"]["fields"], json!({}));
        let (_, list) = c.get(&CASHIER, "/api/v1/customers/?is_active=all").await;
        assert_eq!(list["count"], 0, "the timed-out create wrote nothing");

        let (status, created) =
            c.raw(&CASHIER, "POST", "/api/v1/customers/", slow_body(body, Duration::from_millis(10))).await;
        assert_eq!(status, StatusCode::CREATED, "a body within the timeout is served: {created}");
    }
}

#[tokio::test]
async fn a_body_over_the_configured_limit_is_413() {
    for b in common::backends().await {
        let mut state = b.state.clone();
        state.limits.body_bytes = 256;
        let c = Client::new(&state, b.org).await;
        let big = json!({"name": "x".repeat(300), "surname": "Grande", "phone": "04141234567"});
        let (status, answer) = c.post(&CASHIER, "/api/v1/customers/", big).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
        assert_eq!((answer["error"]["kind"].as_str(), &answer["error"]["fields"]), (Some("too_large"), &json!({})));
        c.create(person("Chico", "Cuerpo", "04141234567")).await;
    }
}
