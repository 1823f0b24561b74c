//! The HTTP surface through `tower::ServiceExt::oneshot`, on both backends: sign-in, refresh
//! rotation, terminal registration, and that sync answers only registered terminals of the
//! caller's own organisation.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use sync_server::accounts::{create_user, issue_registration_code};
use sync_server::auth::Role;
use tower::ServiceExt;
use uuid::Uuid;

async fn call(
    state: &sync_server::AppState,
    method: &str,
    uri: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri).header("content-type", "application/json");
    if let Some(auth) = auth {
        req = req.header("authorization", auth);
    }
    let req = req.body(body.map_or(Body::empty(), |b| Body::from(b.to_string()))).unwrap();
    let res = sync_server::app(state.clone()).oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[tokio::test]
async fn sign_in_refresh_and_reuse_detection() {
    for b in common::backends().await {
        let s = &b.state;
        let username = format!("gerente-{}", Uuid::now_v7());
        create_user(s, b.org, &username, "clave-segura", Role::Manager).await.unwrap();
        let (status, body) =
            call(s, "POST", "/api/token/", None, Some(json!({"username": username, "password": "mala"}))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body["error"]["kind"], "unauthorized");
        let (status, body) = call(s, "POST", "/api/token/", None, Some(json!({"username": "", "password": ""}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"]["fields"]["username"][0]["code"], "required");

        let (status, pair) =
            call(s, "POST", "/api/token/", None, Some(json!({"username": username, "password": "clave-segura"}))).await;
        assert_eq!(status, StatusCode::OK);
        let claims = s.jwt.verify(pair["access"].as_str().unwrap()).unwrap();
        assert_eq!((claims.org, claims.role), (b.org, Role::Manager));

        let (status, next) =
            call(s, "POST", "/api/token/refresh/", None, Some(json!({"refresh": pair["refresh"]}))).await;
        assert_eq!(status, StatusCode::OK);
        assert_ne!(next["refresh"], pair["refresh"], "rotated");
        let (status, _) = call(s, "POST", "/api/token/refresh/", None, Some(json!({"refresh": pair["refresh"]}))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "a spent token is refused");
        let (status, _) = call(s, "POST", "/api/token/refresh/", None, Some(json!({"refresh": next["refresh"]}))).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "and its whole family with it");
    }
}

#[tokio::test]
async fn me_names_the_signed_in_user_and_what_the_role_may_do() {
    for b in common::backends().await {
        let s = &b.state;
        let username = format!("cajera-{}", Uuid::now_v7());
        let id = create_user(s, b.org, &username, "clave-segura", Role::Cashier).await.unwrap();
        let (_, pair) =
            call(s, "POST", "/api/token/", None, Some(json!({"username": username, "password": "clave-segura"}))).await;
        let bearer = format!("Bearer {}", pair["access"].as_str().unwrap());
        let (status, me) = call(s, "GET", "/api/v1/me", Some(&bearer), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["id"], id.to_string());
        assert_eq!(me["username"], username);
        assert_eq!(me["organization_id"], b.org.to_string());
        assert_eq!(me["role"], "cashier");
        assert_eq!(me["actions"], json!(["look_up", "capture"]));
        let (status, _) = call(s, "GET", "/api/v1/me", None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn sync_needs_a_registered_terminal_of_the_organisation() {
    for b in common::backends().await {
        let s = &b.state;
        let code = issue_registration_code(s, b.org, None, 1).await.unwrap();
        let (status, reg) =
            call(s, "POST", "/api/v1/devices/register", None, Some(json!({"code": code, "name": "Caja 1"}))).await;
        assert_eq!(status, StatusCode::OK);
        let (status, body) =
            call(s, "POST", "/api/v1/devices/register", None, Some(json!({"code": code, "name": "Caja 2"}))).await;
        assert_eq!(
            (status, body["error"]["fields"]["code"][0]["code"].is_string()),
            (StatusCode::UNPROCESSABLE_ENTITY, true)
        );

        let device = format!("Device {}", reg["credential"].as_str().unwrap());
        let (status, page) = call(s, "GET", "/api/v1/sync/pull?cursor=0", Some(&device), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["items"], json!([]));

        let (status, _) = call(s, "GET", "/api/v1/sync/pull?cursor=0", None, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let forged = format!("Device {}.not-the-secret", reg["device_id"].as_str().unwrap());
        let (status, _) = call(s, "GET", "/api/v1/sync/pull?cursor=0", Some(&forged), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        let user = s.jwt.issue(Uuid::now_v7(), b.org, Role::Admin);
        let (status, _) = call(s, "GET", "/api/v1/sync/pull?cursor=0", Some(&format!("Bearer {user}")), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "sync is for terminals");

        s.db.revoke_device(b.org, reg["device_id"].as_str().unwrap().parse().unwrap()).await.unwrap();
        let (status, _) = call(s, "GET", "/api/v1/sync/pull?cursor=0", Some(&device), None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "a revoked terminal is locked out");
        let (status, health) = call(s, "GET", "/healthz", None, None).await;
        assert_eq!((status, health["status"].as_str()), (StatusCode::OK, Some("ok")));
    }
}
