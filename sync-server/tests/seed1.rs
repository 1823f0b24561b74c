//! Seed 1 (the Django customers app) against this API on both backends, at its own paths
//! (`/customers/…`): the JSON examples of its section 5 as response-shape tests, and its
//! section 7 tests — upsert create/update by phone and by email, auto-collection merging, soft
//! delete, passport dedupe, and a sale becoming a customer end to end.

#[allow(dead_code)]
mod client;
mod common;

use axum::http::StatusCode;
use client::{id_of, push_sale, Client, CASHIER, MANAGER};
use serde_json::{json, Value};
use sync_server::auth::Role;
use uuid::Uuid;

/// Seed 1's customer object, section 5.
const CUSTOMER_KEYS: [&str; 14] = [
    "id",
    "full_name",
    "phone",
    "email",
    "passport_number",
    "city",
    "source",
    "branch",
    "organization",
    "is_active",
    "service_type",
    "last_activity",
    "created_at",
    "updated_at",
];

fn assert_customer_shape(v: &Value) {
    for key in CUSTOMER_KEYS {
        assert!(v.get(key).is_some(), "{key} missing in {v}");
    }
    assert!(v["is_active"].is_boolean() && v["full_name"].is_string() && v["created_at"].is_string(), "{v}");
    assert!(chrono::DateTime::parse_from_rfc3339(v["updated_at"].as_str().unwrap()).is_ok());
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

#[tokio::test]
async fn section_5_json_examples_keep_their_shape() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let username = format!("user-{}", Uuid::now_v7());
        sync_server::accounts::create_user(&b.state, b.org, &username, "pass-word", Role::Manager).await.unwrap();
        let (status, pair) =
            c.post(&client::As::Nobody, "/api/token/", json!({"username": username, "password": "pass-word"})).await;
        assert_eq!((status, keys(&pair)), (StatusCode::OK, vec!["access".to_owned(), "refresh".to_owned()]));
        let bearer = client::As::Raw(format!("Bearer {}", pair["access"].as_str().unwrap()));

        let branch = b.state.db.create_branch(b.org, &format!("Karachi {}", Uuid::now_v7())).await.unwrap();
        let (status, added) = c
            .post(
                &bearer,
                "/customers/manual-add/",
                json!({"full_name": "Test User", "phone": "+923001234567",
                  "email": "test@example.com", "passport_number": "PX111", "city": "Karachi", "source": "Manual",
                  "branch": branch, "organization": 1}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{added}");
        assert_customer_shape(&added);
        assert_eq!(
            (added["full_name"].as_str(), added["source"].as_str(), added["is_active"].as_bool()),
            (Some("Test User"), Some("Manual"), Some(true))
        );
        assert_eq!(
            (added["branch"].as_str(), added["organization"].as_str()),
            (Some(branch.to_string().as_str()), Some(b.org.to_string().as_str())),
            "the organisation comes from the token"
        );

        let (status, page) = c.get(&bearer, "/customers/").await;
        assert_eq!(
            (status, keys(&page)),
            (StatusCode::OK, vec!["count".into(), "next".into(), "previous".into(), "results".into()])
        );
        assert_eq!(
            (page["count"].as_u64(), page["next"].clone(), page["previous"].clone()),
            (Some(1), Value::Null, Value::Null)
        );
        assert_customer_shape(&page["results"][0]);

        let (status, collected) = c.get(&bearer, "/customers/auto-collection/").await;
        assert_eq!((status, keys(&collected)), (StatusCode::OK, vec!["customers".into(), "total_customers".into()]));
        assert_eq!(collected["total_customers"], 1);
        assert_customer_shape(&collected["customers"][0]);

        let (status, scan) = c.post(&bearer, "/customers/auto-collection/", json!({"cutoff_days": 30})).await;
        assert_eq!((status, keys(&scan)), (StatusCode::OK, vec!["created".into(), "updated".into()]));
        assert!(scan["created"].is_u64() && scan["updated"].is_u64());

        let (status, body) = c.call(&bearer, "DELETE", &format!("/customers/{}/", id_of(&added)), None).await;
        assert_eq!((status, body), (StatusCode::NO_CONTENT, json!("")));
    }
}

#[tokio::test]
async fn upsert_creates_then_updates_by_phone_and_by_email() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let (status, first) = c
            .post(&CASHIER, "/customers/manual-add/", json!({"full_name": "Ali Khan", "phone": "+923001234567"}))
            .await;
        assert_eq!((status, first["created"].clone()), (StatusCode::CREATED, json!(true)));
        let (status, again) = c
            .post(
                &CASHIER,
                "/customers/manual-add/",
                json!({"full_name": "Ali Khan", "phone": "+92 300 1234567", "city": "Lahore"}),
            )
            .await;
        assert_eq!(
            (status, again["created"].clone(), again["matched_by"].clone()),
            (StatusCode::OK, json!(false), json!("phone"))
        );
        assert_eq!((again["id"].clone(), again["city"].clone()), (first["id"].clone(), json!("Lahore")));

        let (status, by_mail) = c
            .post(&CASHIER, "/customers/manual-add/", json!({"full_name": "Sara Ali", "email": "sara@example.com"}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, updated) = c
            .post(
                &CASHIER,
                "/customers/manual-add/",
                json!({"full_name": "Sara Ali", "email": "SARA@example.com", "phone": "+923331112223"}),
            )
            .await;
        assert_eq!(
            (status, updated["matched_by"].clone(), updated["id"].clone()),
            (StatusCode::OK, json!("email"), by_mail["id"].clone())
        );
        assert_eq!(updated["phone"], "+923331112223", "the upsert filled the phone");
        let (_, page) = c.get(&CASHIER, "/customers/").await;
        assert_eq!(page["count"], 2, "two people, four submissions");
    }
}

#[tokio::test]
async fn passport_dedupe_matches_however_the_passport_is_written() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let (_, first) = c
            .post(
                &CASHIER,
                "/customers/manual-add/",
                json!({"full_name": "Ali Khan", "email": "ali@a.com", "passport_number": "ab 123456"}),
            )
            .await;
        assert_eq!(first["passport_number"], "AB123456");
        let (status, second) = c
            .post(
                &CASHIER,
                "/customers/manual-add/",
                json!({"full_name": "Ali Khan", "email": "khan@b.com", "passport_number": "AB-123456"}),
            )
            .await;
        assert_eq!(
            (status, second["matched_by"].clone(), second["id"].clone()),
            (StatusCode::OK, json!("passport_number"), first["id"].clone())
        );
        assert_eq!(second["email"], "ali@a.com", "a key the customer has is never overwritten by a merge");
        let (_, page) = c.get(&CASHIER, "/customers/").await;
        assert_eq!(page["count"], 1);
    }
}

#[tokio::test]
async fn soft_delete_hides_the_customer_but_keeps_the_record() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let (_, added) = c
            .post(&CASHIER, "/customers/manual-add/", json!({"full_name": "Ali Khan", "phone": "+923001234567"}))
            .await;
        let id = id_of(&added);
        let (status, _) = c.call(&CASHIER, "DELETE", &format!("/customers/{id}/"), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "deleting is a manager's decision");
        let (status, _) = c.call(&MANAGER, "DELETE", &format!("/customers/{id}/"), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, page) = c.get(&CASHIER, "/customers/").await;
        assert_eq!(page["count"], 0);
        let (_, collected) = c.get(&CASHIER, "/customers/auto-collection/").await;
        assert_eq!(collected["total_customers"], 0);
        let (status, kept) = c.get(&CASHIER, &format!("/customers/{id}/")).await;
        assert_eq!((status, kept["is_active"].clone()), (StatusCode::OK, json!(false)));
        let (status, _) = c.call(&MANAGER, "DELETE", &format!("/customers/{}/", Uuid::now_v7()), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn auto_collection_merges_every_source_and_a_sale_becomes_a_customer() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let terminal = c.terminal().await;
        // The same person arrives from a checkout (sales data) and from a manual add.
        let (status, checkout) = c
            .post(
                &CASHIER,
                "/customers/find-or-create/",
                json!({"customer_name": "Juan", "customer_surname": "Pérez", "customer_phone": "0414-123.45.67"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        let juan = checkout["customer"]["id"].as_str().unwrap().to_owned();
        let (status, manual) = c
            .post(
                &CASHIER,
                "/customers/manual-add/",
                json!({"full_name": "Juan Pérez", "phone": "+584141234567", "email": "juan@x.com"}),
            )
            .await;
        assert_eq!((status, manual["id"].as_str()), (StatusCode::OK, Some(juan.as_str())));
        let (_, collected) = c.get(&CASHIER, "/customers/auto-collection/").await;
        assert_eq!(collected["total_customers"], 1, "one customer for both sources");
        assert_eq!(collected["customers"][0]["email"], "juan@x.com");

        // The sale end to end: the terminal records it, the customer shows it.
        let now = chrono::Utc::now();
        let sold_at = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        push_sale(&c, &terminal, &juan, 4500, &sold_at).await;
        let (_, history) = c.get(&CASHIER, &format!("/customers/{juan}/purchase-history/")).await;
        assert_eq!((history["count"].as_u64(), history["results"][0]["total_minor"].as_i64()), (Some(1), Some(4500)));
        let (_, customer) = c.get(&CASHIER, &format!("/customers/{juan}/")).await;
        assert_eq!(
            chrono::DateTime::parse_from_rfc3339(customer["last_activity"].as_str().unwrap()).unwrap(),
            chrono::DateTime::parse_from_rfc3339(&sold_at).unwrap()
        );

        // The scan brings a buyer who was soft-deleted after buying back, and only once.
        c.call(&MANAGER, "DELETE", &format!("/customers/{juan}/"), None).await;
        let (status, scan) = c.post(&MANAGER, "/customers/auto-collection/", json!({"cutoff_days": 7})).await;
        assert_eq!((status, scan), (StatusCode::OK, json!({"created": 0, "updated": 1})));
        let (_, again) = c.post(&MANAGER, "/customers/auto-collection/", json!({"cutoff_days": 7})).await;
        assert_eq!(again, json!({"created": 0, "updated": 0}));
        let (_, collected) = c.get(&CASHIER, "/customers/auto-collection/").await;
        assert_eq!(collected["total_customers"], 1);
        let (status, body) = c.post(&MANAGER, "/customers/auto-collection/", json!({"cutoff_days": 0})).await;
        assert_eq!(
            (status, client::error_fields(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["cutoff_days".to_owned()])
        );
    }
}
