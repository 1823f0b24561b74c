//! The role × organisation matrix on both backends: every customer endpoint refuses callers
//! without a token (401) and roles below its own (403), and a token of another organisation
//! never reaches this organisation's data, whatever id it sends (404, or an empty answer).

#[allow(dead_code)]
mod client;
mod common;

use axum::http::StatusCode;
use client::As::{Foreign, Nobody};
use client::{id_of, person, As, Client};
use serde_json::{json, Value};
use sync_server::auth::Role;

/// (method, path with `{id}`, body, least role allowed).
fn endpoints(review: &str, other: &str) -> Vec<(&'static str, String, Option<Value>, Role)> {
    use Role::*;
    let p = "/api/v1/customers";
    vec![
        ("GET", format!("{p}/"), None, Cashier),
        ("POST", format!("{p}/"), Some(person("Nuevo", "Cliente", "04161234567")), Cashier),
        ("GET", format!("{p}/{{id}}/"), None, Cashier),
        (
            "PUT",
            format!("{p}/{{id}}/"),
            Some(json!({"name": "Juan", "surname": "Pérez", "phone": "04141234567", "identification": "V-12345678"})),
            Manager,
        ),
        ("PATCH", format!("{p}/{{id}}/"), Some(json!({"notes": "x"})), Manager),
        ("GET", format!("{p}/{{id}}/preferences/"), None, Cashier),
        ("PATCH", format!("{p}/{{id}}/preferences/"), Some(json!({"language": "en"})), Manager),
        (
            "PUT",
            format!("{p}/{{id}}/preferences/"),
            Some(json!({"channels": [], "notification_types": [], "language": "es"})),
            Manager,
        ),
        ("POST", format!("{p}/search/"), Some(json!({"query": "juan"})), Cashier),
        ("POST", format!("{p}/lookup/"), Some(json!({"identification": "V-12345678"})), Cashier),
        ("GET", format!("{p}/quick-lookup/?q=juan"), None, Cashier),
        ("POST", format!("{p}/validate/"), Some(person("A", "B", "04141234567")), Cashier),
        (
            "POST",
            format!("{p}/find-or-create/"),
            Some(json!({"customer_name": "Juan", "customer_surname": "Pérez", "customer_phone": "04141234567"})),
            Cashier,
        ),
        ("GET", format!("{p}/{{id}}/purchase-history/"), None, Cashier),
        ("GET", format!("{p}/{{id}}/sales-summary/"), None, Cashier),
        ("POST", format!("{p}/manual-add/"), Some(json!({"full_name": "Juan Pérez", "phone": "04141234567"})), Cashier),
        ("GET", format!("{p}/auto-collection/"), None, Cashier),
        ("POST", format!("{p}/auto-collection/"), Some(json!({"cutoff_days": 30})), Manager),
        ("POST", format!("{p}/bulk-activate/"), Some(json!({"ids": ["{id}"]})), Manager),
        ("POST", format!("{p}/bulk-deactivate/"), Some(json!({"ids": ["{id}"]})), Manager),
        ("GET", format!("{p}/stats/"), None, Manager),
        ("GET", format!("{p}/review-items/"), None, Manager),
        ("POST", format!("{p}/review-items/{review}/dismiss/"), None, Manager),
        ("POST", format!("{p}/merge/"), Some(json!({"survivor": "{id}", "loser": other})), Manager),
        ("DELETE", format!("{p}/{{id}}/"), None, Manager),
    ]
}

fn below(role: Role) -> Vec<Role> {
    [Role::Cashier, Role::Manager, Role::Admin].into_iter().filter(|r| *r < role).collect()
}

#[tokio::test]
async fn every_endpoint_checks_token_role_and_organisation() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let juan = c
            .create(json!({"name": "Juan", "surname": "Pérez", "phone": "04141234567", "identification": "V-12345678"}))
            .await;
        let id = id_of(&juan);
        let ana =
            c.create(json!({"name": "Ana", "surname": "Gil", "phone": "04241234567", "email": "ana@x.com"})).await;
        let review = uuid::Uuid::now_v7().to_string();
        for (method, path, body, least) in endpoints(&review, &id_of(&ana)) {
            let path = path.replace("{id}", &id);
            let body = body.map(|b| serde_json::from_str::<Value>(&b.to_string().replace("{id}", &id)).unwrap());
            let (status, answer) = c.call(&Nobody, method, &path, body.clone()).await;
            assert_eq!(
                (status, answer["error"]["kind"].as_str()),
                (StatusCode::UNAUTHORIZED, Some("unauthorized")),
                "{method} {path}"
            );
            for role in below(least) {
                let (status, answer) = c.call(&As::Role(role), method, &path, body.clone()).await;
                assert_eq!(
                    (status, answer["error"]["kind"].as_str()),
                    (StatusCode::FORBIDDEN, Some("forbidden")),
                    "{role:?} {method} {path}"
                );
            }
            // Another organisation's admin: our ids are unknown there.
            let (status, answer) = c.call(&Foreign(Role::Admin), method, &path, body.clone()).await;
            let text = answer.to_string();
            assert!(!text.contains(&id) && !text.contains(&b.org.to_string()), "{method} {path} leaked: {text}");
            if path.contains(&id) || path.ends_with("/merge/") {
                assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
            }
            if path.contains("bulk-") {
                assert_eq!(answer["not_found"], 1, "{method} {path}: {answer}");
            }
        }
        // What the foreign organisation created with the same identifiers is its own customer.
        let (_, mine) = c.get(&client::MANAGER, "/api/v1/customers/?is_active=all").await;
        assert!(mine["results"].as_array().unwrap().iter().all(|r| r["organization"] == b.org.to_string()));
        let (status, theirs) = c.get(&Foreign(Role::Cashier), "/api/v1/customers/quick-lookup/?q=V-12345678").await;
        assert_eq!(status, StatusCode::OK);
        assert!(theirs["results"].as_array().unwrap().iter().all(|r| r["id"] != id.as_str()));
    }
}

#[tokio::test]
async fn allowed_roles_get_through() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let juan = c
            .create(json!({"name": "Juan", "surname": "Pérez", "phone": "04141234567", "identification": "V-12345678"}))
            .await;
        let id = id_of(&juan);
        let ana = c.create(json!({"name": "Ana", "surname": "Gil", "phone": "04241234567"})).await;
        let review = uuid::Uuid::now_v7().to_string();
        for (method, path, body, least) in endpoints(&review, &id_of(&ana)) {
            let path = path.replace("{id}", &id);
            let body = body.map(|b| serde_json::from_str::<Value>(&b.to_string().replace("{id}", &id)).unwrap());
            let (status, answer) = c.call(&As::Role(least), method, &path, body).await;
            let expected_missing = path.contains(&review);
            assert!(
                status.is_success()
                    || (expected_missing && status == StatusCode::NOT_FOUND)
                    || status == StatusCode::CONFLICT,
                "{least:?} {method} {path}: {status} {answer}"
            );
        }
    }
}
