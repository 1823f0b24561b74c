//! `/openapi.json` and `/healthz`: the document lists every endpoint (at both seed paths) with
//! its error answers, and its descriptions of `pos-core` types match their real serde form.

#[allow(dead_code)]
mod client;
mod common;

use axum::http::StatusCode;
use client::{Client, CASHIER};
use pos_core::{CustomerInput, Preferences, SalesCustomerData};
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn properties(doc: &Value, schema: &str) -> BTreeSet<String> {
    doc["components"]["schemas"][schema]["properties"]
        .as_object()
        .unwrap_or_else(|| panic!("{schema} has no properties"))
        .keys()
        .cloned()
        .collect()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[tokio::test]
async fn the_document_lists_every_endpoint_with_its_errors() {
    let b = common::backends().await.remove(0);
    let c = Client::new(&b.state, b.org).await;
    let (status, doc) = c.get(&client::As::Nobody, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let expected = [
        ("post", "/api/token/"),
        ("post", "/api/token/refresh/"),
        ("post", "/api/v1/devices/register"),
        ("get", "/api/v1/me"),
        ("post", "/api/v1/sync/push"),
        ("get", "/api/v1/sync/pull"),
        ("get", "/healthz"),
        ("get", "/metrics"),
    ];
    let customer = [
        ("get", ""),
        ("post", ""),
        ("get", "{id}/"),
        ("put", "{id}/"),
        ("patch", "{id}/"),
        ("delete", "{id}/"),
        ("get", "{id}/preferences/"),
        ("put", "{id}/preferences/"),
        ("patch", "{id}/preferences/"),
        ("post", "search/"),
        ("post", "lookup/"),
        ("get", "quick-lookup/"),
        ("post", "validate/"),
        ("post", "find-or-create/"),
        ("get", "{id}/purchase-history/"),
        ("get", "{id}/sales-summary/"),
        ("post", "manual-add/"),
        ("get", "auto-collection/"),
        ("post", "auto-collection/"),
        ("post", "bulk-activate/"),
        ("post", "bulk-deactivate/"),
        ("get", "stats/"),
        ("get", "review-items/"),
        ("post", "review-items/{id}/dismiss/"),
        ("post", "merge/"),
    ];
    let mut all: Vec<(String, String)> = expected.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    for prefix in ["/api/v1/customers/", "/customers/"] {
        all.extend(customer.iter().map(|(m, p)| (m.to_string(), format!("{prefix}{p}"))));
    }
    let mut listed = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        listed += item
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| ["get", "put", "post", "patch", "delete"].contains(&k.as_str()))
            .count();
        let _ = path;
    }
    assert_eq!(listed, all.len(), "no endpoint more or less than expected");
    for (method, path) in &all {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} missing");
        for status in ["400", "404", "422", "500"] {
            assert_eq!(
                op["responses"][status]["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/ErrorBody",
                "{method} {path} {status}"
            );
        }
        if path.contains("customers/") {
            assert!(op["responses"]["401"].is_object() && op["responses"]["403"].is_object(), "{method} {path}");
            assert!(op["security"].is_array(), "{method} {path}");
        }
    }
    assert_eq!(
        doc["paths"]["/api/v1/customers/"]["post"]["responses"]["409"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ErrorBody"
    );
    assert_eq!(
        doc["paths"]["/api/v1/customers/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/Page_CustomerView"
    );
    let params: Vec<&str> = doc["paths"]["/api/v1/customers/"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "search",
        "is_active",
        "source",
        "branch",
        "city",
        "created_from",
        "created_to",
        "ordering",
        "page",
        "page_size",
    ] {
        assert!(params.contains(&name), "{name} in {params:?}");
    }
}

#[tokio::test]
async fn described_shapes_match_the_real_ones() {
    let b = common::backends().await.remove(0);
    let c = Client::new(&b.state, b.org).await;
    let (_, doc) = c.get(&client::As::Nobody, "/openapi.json").await;
    assert_eq!(properties(&doc, "CustomerInputDoc"), keys(&serde_json::to_value(CustomerInput::default()).unwrap()));
    assert_eq!(
        properties(&doc, "SalesCustomerDataDoc"),
        keys(&serde_json::to_value(SalesCustomerData::default()).unwrap())
    );
    assert_eq!(properties(&doc, "PreferencesDoc"), keys(&serde_json::to_value(Preferences::default()).unwrap()));

    let customer = c.create(json!({"name": "Juan", "surname": "Pérez", "phone": "04141234567"})).await;
    let mut view_keys = keys(&customer);
    view_keys.insert("merged_into".into());
    assert_eq!(properties(&doc, "CustomerView"), view_keys);
    let (device, device_id) = c.terminal().await;
    let sale =
        client::push_sale(&c, &(device, device_id), customer["id"].as_str().unwrap(), 100, "2026-01-01T00:00:00Z")
            .await;
    assert_eq!(properties(&doc, "SaleDoc"), keys(&sale));
    let (_, history) =
        c.get(&CASHIER, &format!("/api/v1/customers/{}/purchase-history/", customer["id"].as_str().unwrap())).await;
    assert_eq!(properties(&doc, "SaleDoc"), keys(&history["results"][0]));

    let (_, error) = c
        .post(&CASHIER, "/api/v1/customers/", json!({"name": "Juan", "surname": "Pérez", "phone": "04141234567"}))
        .await;
    assert!(keys(&error["error"]).is_subset(&properties(&doc, "ErrorDetail")), "{error}");
    assert_eq!(keys(&error["error"]), properties(&doc, "ErrorDetail"), "{error}");
    let required: BTreeSet<String> = doc["components"]["schemas"]["ErrorDetail"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_owned())
        .collect();
    assert!(required.contains("fields"), "the field map is always there: {required:?}");
    assert_eq!(keys(&error["error"]["fields"]["phone"][0]), properties(&doc, "FieldErrorBody"));
    let (status, health) = c.get(&client::As::Nobody, "/healthz").await;
    assert_eq!((status, health["status"].as_str()), (StatusCode::OK, Some("ok")));
}
