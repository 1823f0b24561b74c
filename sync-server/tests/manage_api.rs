//! The back office's endpoints on both backends: purchase history and sales summary, bulk
//! (de)activation, stats, review items and the explicit merge; and the operational surface
//! (`/metrics`, body limits).

#[allow(dead_code)]
mod client;
mod common;

use axum::http::StatusCode;
use client::{error_fields, id_of, person, push_sale, Client, CASHIER, MANAGER};
use serde_json::{json, Value};

#[tokio::test]
async fn purchase_history_and_sales_summary_come_from_pushed_sales() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let terminal = c.terminal().await;
        let id = id_of(&c.create(person("Juan", "Pérez", "04141234567")).await);
        push_sale(&c, &terminal, &id, 1250, "2026-01-10T10:00:00Z").await;
        push_sale(&c, &terminal, &id, 750, "2026-02-10T10:00:00Z").await;
        let (status, history) = c.get(&CASHIER, &format!("/api/v1/customers/{id}/purchase-history/?page_size=1")).await;
        assert_eq!(status, StatusCode::OK, "{history}");
        assert_eq!(
            (history["count"].as_u64(), history["results"][0]["total_minor"].as_i64()),
            (Some(2), Some(750)),
            "newest first"
        );
        assert!(history["next"].as_str().unwrap().contains("page=2"));
        let (_, summary) = c.get(&CASHIER, &format!("/api/v1/customers/{id}/sales-summary/")).await;
        assert_eq!(summary["total_purchases"], 2);
        assert_eq!(summary["by_currency"]["USD"], json!({"purchases": 2, "total_minor": 2000, "average_minor": 1000}));
        assert_eq!(
            (summary["first_purchase"].as_str(), summary["last_purchase"].as_str()),
            (Some("2026-01-10T10:00:00Z"), Some("2026-02-10T10:00:00Z"))
        );
        let (_, customer) = c.get(&CASHIER, &format!("/api/v1/customers/{id}/")).await;
        assert_eq!(customer["last_activity"], "2026-02-10T10:00:00Z");
    }
}

#[tokio::test]
async fn bulk_actions_count_and_stats_total() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let a =
            id_of(&c.create(json!({"name": "A", "surname": "Uno", "phone": "04141000001", "source": "Lead"})).await);
        let bb = id_of(&c.create(person("B", "Dos", "04141000002")).await);
        let missing = uuid::Uuid::now_v7();
        let (status, done) =
            c.post(&MANAGER, "/api/v1/customers/bulk-deactivate/", json!({"ids": [a, bb, missing, a]})).await;
        assert_eq!((status, done), (StatusCode::OK, json!({"updated": 2, "unchanged": 0, "not_found": 1})));
        let (_, done) = c.post(&MANAGER, "/api/v1/customers/bulk-activate/", json!({"ids": [a]})).await;
        assert_eq!(done, json!({"updated": 1, "unchanged": 0, "not_found": 0}));
        let (_, done) = c.post(&MANAGER, "/api/v1/customers/bulk-activate/", json!({"ids": [a]})).await;
        assert_eq!(done["unchanged"], 1);
        let (status, body) = c.post(&MANAGER, "/api/v1/customers/bulk-activate/", json!({"ids": []})).await;
        assert_eq!((status, error_fields(&body)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["ids".to_owned()]));
        let (status, body) = c.post(&MANAGER, "/api/v1/customers/bulk-activate/", json!({"ids": ["x"]})).await;
        assert_eq!((status, error_fields(&body)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["ids".to_owned()]));

        let (status, stats) = c.get(&MANAGER, "/api/v1/customers/stats/?days=7").await;
        assert_eq!(status, StatusCode::OK, "{stats}");
        assert_eq!(
            (stats["total"].as_i64(), stats["active"].as_i64(), stats["inactive"].as_i64()),
            (Some(2), Some(1), Some(1))
        );
        assert_eq!(stats["by_source"], json!({"Lead": 1, "POS": 1}));
        assert_eq!(stats["by_branch"], json!({"none": 2}));
        let today = chrono::Utc::now().date_naive().to_string();
        assert_eq!(stats["new_per_day"], json!({ today: 2 }));
        let (status, _) = c.get(&MANAGER, "/api/v1/customers/stats/?days=0").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
}

#[tokio::test]
async fn review_items_are_dismissed_or_resolved_by_an_explicit_merge() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let terminal = c.terminal().await;
        let juan = id_of(&c.create(json!({"name": "Juan", "surname": "Pérez", "phone": "04141234567"})).await);
        let dup = id_of(
            &c.create(json!({"name": "Juan", "surname": "Perez", "email": "juan@x.com", "city": "Mérida"})).await,
        );
        push_sale(&c, &terminal, &dup, 500, "2026-03-01T12:00:00Z").await;
        c.call(&MANAGER, "PATCH", &format!("/api/v1/customers/{dup}/preferences/"), Some(json!({"language": "en"})))
            .await;
        // Phone names Juan, email the duplicate: a review item opens.
        let (_, found) = c
            .post(&CASHIER, "/api/v1/customers/find-or-create/",
                  json!({"customer_name": "Juan", "customer_surname": "Pérez", "customer_phone": "04141234567", "customer_email": "juan@x.com"}))
            .await;
        assert_eq!(found["customer"]["id"], juan.as_str());
        let (_, items) = c.get(&MANAGER, "/api/v1/customers/review-items/").await;
        assert_eq!(items["count"], 1, "{items}");
        let item = items["results"][0].clone();
        assert_eq!(
            (item["match_key"].as_str(), item["customer_b"]["id"].as_str()),
            (Some("email"), Some(dup.as_str()))
        );

        let (_, before) = c.get(&terminal.0, "/api/v1/sync/pull?cursor=0&limit=5000").await;
        let cursor = before["cursor"].as_i64().unwrap();
        let (status, merged) =
            c.post(&MANAGER, "/api/v1/customers/merge/", json!({"survivor": juan, "loser": dup})).await;
        assert_eq!(status, StatusCode::OK, "{merged}");
        assert_eq!(merged["survivor"]["email"], "juan@x.com", "the survivor takes the loser's free key");
        assert_eq!(merged["survivor"]["city"], "Mérida", "and fills its blanks");
        assert_eq!(
            (merged["loser"]["merged_into"].as_str(), merged["loser"]["email"].clone()),
            (Some(juan.as_str()), Value::Null)
        );
        assert_eq!(merged["sales_repointed"], 1);
        let (_, history) = c.get(&CASHIER, &format!("/api/v1/customers/{juan}/purchase-history/")).await;
        assert_eq!(history["count"], 1, "the loser's sale is the survivor's now");
        let (_, prefs) = c.get(&CASHIER, &format!("/api/v1/customers/{juan}/preferences/")).await;
        assert_eq!(prefs["language"], "en", "the loser's preferences moved");
        let (_, old) = c.get(&CASHIER, &format!("/api/v1/customers/{dup}/")).await;
        assert_eq!(old["id"], juan.as_str(), "the loser's id answers with the survivor");
        let (_, items) = c.get(&MANAGER, "/api/v1/customers/review-items/").await;
        assert_eq!(items["count"], 0, "the merge resolved the review item");
        let (target, by, _) = b.state.db.merge_logged(b.org, dup.parse().unwrap()).await.unwrap().expect("logged");
        assert_eq!(target.to_string(), juan);
        assert!(by.starts_with("user:"), "{by}");

        let (_, page) = c.get(&terminal.0, &format!("/api/v1/sync/pull?cursor={cursor}")).await;
        let remap = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["customer"]["id"] == dup.as_str())
            .expect("remap pulled");
        assert_eq!(remap["customer"]["merged_into"], juan.as_str());

        let (status, _) = c.post(&MANAGER, "/api/v1/customers/merge/", json!({"survivor": juan, "loser": dup})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "a tombstone cannot be merged again");
        let (status, body) =
            c.post(&MANAGER, "/api/v1/customers/merge/", json!({"survivor": juan, "loser": juan})).await;
        assert_eq!((status, error_fields(&body)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["loser".to_owned()]));

        // Another suspected pair, dismissed this time.
        let ana = id_of(&c.create(json!({"name": "Ana", "surname": "Gil", "phone": "04241234567"})).await);
        c.create(json!({"name": "Ana", "surname": "Gil", "email": "ana@x.com"})).await;
        c.post(&CASHIER, "/api/v1/customers/find-or-create/",
               json!({"customer_name": "Ana", "customer_surname": "Gil", "customer_phone": "04241234567", "customer_email": "ana@x.com"}))
            .await;
        let (_, items) = c.get(&MANAGER, "/api/v1/customers/review-items/").await;
        assert_eq!(items["results"][0]["customer_a"]["id"], ana.as_str());
        let item = items["results"][0]["id"].as_str().unwrap().to_owned();
        let (status, done) =
            c.post(&MANAGER, &format!("/api/v1/customers/review-items/{item}/dismiss/"), json!({})).await;
        assert_eq!((status, done["status"].as_str()), (StatusCode::OK, Some("dismissed")));
        let (status, _) = c.post(&MANAGER, &format!("/api/v1/customers/review-items/{item}/dismiss/"), json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "already closed");
    }
}

#[tokio::test]
async fn metrics_count_requests_and_limits_refuse_large_bodies() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        c.create(person("Juan", "Pérez", "04141234567")).await;
        let (status, text) = c.get(&client::As::Nobody, "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        let text = text.as_str().unwrap().to_owned();
        assert!(
            text.contains("pos_http_requests_total{method=\"POST\",route=\"/api/v1/customers/\",status=\"201\"}"),
            "{text}"
        );
        assert!(text.contains("pos_http_request_duration_seconds_bucket{method=\"POST\",route=\"/api/v1/customers/\",status=\"201\",le=\"+Inf\"}"));
        for name in [
            "pos_sync_pushes_total",
            "pos_sync_changes_total{outcome=\"applied\"}",
            "pos_sync_pulls_total",
            "pos_merges_total{outcome=\"explicit\"}",
            "pos_review_items_open",
        ] {
            assert!(text.contains(name), "{name} missing");
        }
        let big = format!("{{\"name\": \"{}\"}}", "x".repeat(sync_server::BODY_LIMIT + 1));
        let (status, body) = c.raw(&CASHIER, "POST", "/api/v1/customers/", big.into()).await;
        assert_eq!((status, body["error"]["kind"].as_str()), (StatusCode::PAYLOAD_TOO_LARGE, Some("too_large")));
    }
}
