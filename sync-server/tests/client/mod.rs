//! An HTTP client for the API tests: requests through `tower::ServiceExt::oneshot` with a
//! token of the chosen role, in the backend's organisation or in a second one.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{json, Value};
use sync_server::auth::Role;
use sync_server::AppState;
use tower::ServiceExt;
use uuid::Uuid;

/// Who calls: a role in the test organisation, the same role in another organisation, a
/// registered terminal, or nobody.
#[derive(Debug, Clone)]
pub enum As {
    Nobody,
    Role(Role),
    Foreign(Role),
    Raw(String),
}

pub const CASHIER: As = As::Role(Role::Cashier);
pub const MANAGER: As = As::Role(Role::Manager);
pub const ADMIN: As = As::Role(Role::Admin);

#[derive(Debug, Clone)]
pub struct Client {
    pub state: AppState,
    pub org: Uuid,
    pub other_org: Uuid,
}

impl Client {
    pub async fn new(state: &AppState, org: Uuid) -> Client {
        let other_org = state.db.create_organization(&format!("other-{}", Uuid::now_v7())).await.unwrap();
        Client { state: state.clone(), org, other_org }
    }

    fn authorization(&self, who: &As) -> Option<String> {
        match who {
            As::Nobody => None,
            As::Role(role) => Some(format!("Bearer {}", self.state.jwt.issue(Uuid::now_v7(), self.org, *role))),
            As::Foreign(role) => {
                Some(format!("Bearer {}", self.state.jwt.issue(Uuid::now_v7(), self.other_org, *role)))
            }
            As::Raw(header) => Some(header.clone()),
        }
    }

    pub async fn raw(&self, who: &As, method: &str, uri: &str, body: Body) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(uri).header("content-type", "application/json");
        if let Some(auth) = self.authorization(who) {
            req = req.header("authorization", auth);
        }
        let res = sync_server::app(self.state.clone()).oneshot(req.body(body).unwrap()).await.unwrap();
        let status = res.status();
        let bytes = axum::body::to_bytes(res.into_body(), 64 << 20).await.unwrap();
        let value =
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
        (status, value)
    }

    pub async fn call(&self, who: &As, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, Value) {
        self.raw(who, method, uri, body.map_or(Body::empty(), |b| Body::from(b.to_string()))).await
    }

    pub async fn get(&self, who: &As, uri: &str) -> (StatusCode, Value) {
        self.call(who, "GET", uri, None).await
    }

    pub async fn post(&self, who: &As, uri: &str, body: Value) -> (StatusCode, Value) {
        self.call(who, "POST", uri, Some(body)).await
    }

    /// Creates a customer as a cashier and returns it (panics unless 201).
    pub async fn create(&self, body: Value) -> Value {
        let (status, customer) = self.post(&CASHIER, "/api/v1/customers/", body).await;
        assert_eq!(status, StatusCode::CREATED, "{customer}");
        customer
    }

    /// Registers a terminal of the test organisation; its `Device …` authorisation and id.
    pub async fn terminal(&self) -> (As, Uuid) {
        let code = sync_server::accounts::issue_registration_code(&self.state, self.org, None, 1).await.unwrap();
        let (status, reg) =
            self.post(&As::Nobody, "/api/v1/devices/register", json!({"code": code, "name": "Caja"})).await;
        assert_eq!(status, StatusCode::OK, "{reg}");
        (
            As::Raw(format!("Device {}", reg["credential"].as_str().unwrap())),
            reg["device_id"].as_str().unwrap().parse().unwrap(),
        )
    }
}

/// A customer body in seed 2's field names.
pub fn person(name: &str, surname: &str, phone: &str) -> Value {
    json!({"name": name, "surname": surname, "phone": phone})
}

/// The error body's field names (the keys of its field map, which every error answer has).
pub fn error_fields(body: &Value) -> Vec<String> {
    body["error"]["fields"].as_object().unwrap_or_else(|| panic!("no field map in {body}")).keys().cloned().collect()
}

pub fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

/// Pushes a sale of `total_minor` USD for `customer` from `terminal`, sold at `sold_at`.
pub async fn push_sale(c: &Client, terminal: &(As, Uuid), customer: &str, total_minor: i64, sold_at: &str) -> Value {
    let sale = json!({
        "id": Uuid::now_v7(), "organization_id": c.org, "customer_id": customer, "branch_id": null,
        "terminal_id": terminal.1, "lines": [], "total_minor": total_minor, "currency": "USD",
        "payment_method": "cash", "sold_at": sold_at,
    });
    let change = json!({"change_id": Uuid::now_v7(), "device_id": terminal.1, "entity": "sale", "sale": sale});
    let (status, answer) = c.post(&terminal.0, "/api/v1/sync/push", json!({"changes": [change]})).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["results"][0]["status"], "applied", "{answer}");
    sale
}
