//! Seed 2's customer API over HTTP on both backends: CRUD with soft delete, list filters and
//! pages, quick lookup, lookup, validation, find-or-create, preferences, and that REST writes
//! reach terminals through pull.

#[allow(dead_code)]
mod client;
mod common;

use axum::http::StatusCode;
use client::{error_fields, id_of, person, Client, ADMIN, CASHIER, MANAGER};
use pos_core::Customer;
use serde_json::{json, Value};

#[tokio::test]
async fn create_retrieve_replace_patch_and_soft_delete() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let created = c
            .create(json!({"name": " juan ", "surname": "Pérez", "phone": "0414-123.45.67",
                           "email": "Juan@Example.COM", "identification": "v12.345.678", "city": "Caracas"}))
            .await;
        assert_eq!(created["phone"], "+584141234567", "stored normalised");
        assert_eq!(created["email"], "juan@example.com");
        assert_eq!(created["identification"], "V-12345678");
        assert_eq!(created["full_name"], "juan Pérez");
        assert_eq!(created["organization"], b.org.to_string());
        let id = id_of(&created);
        let url = format!("/api/v1/customers/{id}/");

        let (status, got) = c.get(&CASHIER, &url).await;
        assert_eq!((status, &got), (StatusCode::OK, &created));

        let (status, replaced) = c
            .call(
                &MANAGER,
                "PUT",
                &url,
                Some(json!({"name": "Juan", "surname": "Pérez Rojas", "email": "jp@example.com"})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{replaced}");
        assert_eq!(
            (replaced["surname"].as_str(), replaced["phone"].as_str()),
            (Some("Pérez Rojas"), None),
            "PUT replaces"
        );
        assert_eq!(replaced["identification"], Value::Null);

        let (status, patched) =
            c.call(&MANAGER, "PATCH", &url, Some(json!({"phone": "04241112233", "notes": "VIP"}))).await;
        assert_eq!(status, StatusCode::OK, "{patched}");
        assert_eq!((patched["phone"].as_str(), patched["notes"].as_str()), (Some("+584241112233"), Some("VIP")));
        assert_eq!(patched["surname"], "Pérez Rojas", "PATCH keeps what it does not name");

        let (status, body) = c.call(&MANAGER, "DELETE", &url, None).await;
        assert_eq!((status, body), (StatusCode::NO_CONTENT, Value::String(String::new())));
        let (_, after) = c.get(&CASHIER, &url).await;
        assert_eq!(after["is_active"], false, "soft delete keeps the record");
        let (_, list) = c.get(&CASHIER, "/api/v1/customers/").await;
        assert_eq!(list["count"], 0, "soft-deleted customers leave the list");
        let (_, list) = c.get(&CASHIER, "/api/v1/customers/?is_active=false").await;
        assert_eq!(list["results"][0]["id"], id.as_str());
    }
}

#[tokio::test]
async fn bad_input_is_answered_in_one_shape_naming_fields() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let (status, body) = c
            .post(
                &CASHIER,
                "/api/v1/customers/",
                json!({"name": "", "surname": "Pérez", "phone": "12", "identification": "X-1"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"]["kind"], "invalid");
        let fields = error_fields(&body);
        for f in ["first_name", "phone", "identification"] {
            assert!(fields.contains(&f.to_owned()), "{f} in {fields:?}");
        }
        let phone = &body["error"]["fields"]["phone"][0];
        let entry_keys: Vec<&String> = phone.as_object().unwrap().keys().collect();
        assert_eq!(entry_keys, ["code", "message", "message_es"], "stable code and both languages: {phone}");
        assert_eq!(phone["code"], "phone_invalid");

        let (status, body) =
            c.post(&CASHIER, "/api/v1/customers/", json!({"name": "A", "surname": "B", "phone": 5})).await;
        assert_eq!((status, error_fields(&body)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["phone".to_owned()]));

        let (status, body) = c.raw(&CASHIER, "POST", "/api/v1/customers/", "{not json".into()).await;
        assert_eq!((status, body["error"]["kind"].as_str()), (StatusCode::BAD_REQUEST, Some("bad_request")));

        for uri in
            ["/api/v1/customers/not-a-uuid/", &format!("/api/v1/customers/{}/", uuid::Uuid::now_v7()), "/nowhere"]
        {
            let (status, body) = c.get(&CASHIER, uri).await;
            assert_eq!((status, body["error"]["kind"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{uri}");
            assert_eq!(body["error"]["fields"], json!({}), "every error answer has a field map");
        }
        let (status, body) = c.get(&CASHIER, "/api/v1/customers/?ordering=shoe_size&page=0&is_active=maybe").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error_fields(&body), ["is_active", "ordering", "page"]);
        let (status, body) = c.call(&CASHIER, "DELETE", "/api/v1/customers/", None).await;
        assert_eq!(
            (status, body["error"]["kind"].as_str()),
            (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
        );
        let (status, body) = c.get(&client::As::Nobody, "/api/v1/customers/").await;
        assert_eq!((status, body["error"]["kind"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthorized")));
        assert_eq!(body["error"]["fields"], json!({}));
    }
}

#[tokio::test]
async fn a_strict_create_of_a_known_identifier_is_409_naming_the_customer() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let first =
            c.create(json!({"name": "Ana", "surname": "Gil", "phone": "04141234567", "email": "ana@x.com"})).await;
        let (status, body) =
            c.post(&CASHIER, "/api/v1/customers/", json!({"name": "Ana", "surname": "G", "email": "ANA@x.com"})).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["kind"], "duplicate");
        assert_eq!(body["error"]["existing_id"], first["id"]);
        assert_eq!(error_fields(&body), ["email"]);
        assert_eq!(body["error"]["fields"]["email"][0]["code"], "duplicate");
        let other = c.create(person("Luis", "Mora", "04241234567")).await;
        let (status, body) = c
            .call(
                &MANAGER,
                "PATCH",
                &format!("/api/v1/customers/{}/", id_of(&other)),
                Some(json!({"phone": "+584141234567"})),
            )
            .await;
        assert_eq!((status, body["error"]["existing_id"].clone()), (StatusCode::CONFLICT, first["id"].clone()));
        let (_, list) = c.get(&CASHIER, "/api/v1/customers/").await;
        assert_eq!(list["count"], 2, "nothing was written by the refused requests");
    }
}

#[tokio::test]
async fn list_filters_search_orders_and_pages() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let branch = b.state.db.create_branch(b.org, &format!("Centro {}", uuid::Uuid::now_v7())).await.unwrap();
        c.create(json!({"name": "José", "surname": "Pérez", "phone": "04141110001", "city": "Caracas",
                        "identification": "V-10000001", "branch": branch}))
            .await;
        c.create(
            json!({"name": "María", "surname": "Álvarez", "phone": "04141110002", "city": "caracas", "source": "Lead"}),
        )
        .await;
        c.create(json!({"name": "Pedro", "surname": "Zamora", "email": "pz@x.com", "city": "Maracay", "passport_number": "ab-123456"}))
            .await;
        let names = |v: &Value| -> Vec<String> {
            v["results"].as_array().unwrap().iter().map(|r| r["surname"].as_str().unwrap().to_owned()).collect()
        };
        let (_, all) = c.get(&CASHIER, "/api/v1/customers/?ordering=surname").await;
        assert_eq!(names(&all), ["Álvarez", "Pérez", "Zamora"], "accent-folded order");
        for (query, expect) in [
            ("search=perez", vec!["Pérez"]),
            ("search=JOSE%20pe", vec!["Pérez"]),
            ("search=v10.000.001", vec!["Pérez"]),
            ("search=0414-111", vec!["Pérez", "Álvarez"]),
            ("search=AB123456", vec!["Zamora"]),
            ("city=CARACAS", vec!["Pérez", "Álvarez"]),
            ("source=lead", vec!["Álvarez"]),
            (&format!("branch={branch}") as &str, vec!["Pérez"]),
            ("created_from=2000-01-01&created_to=2000-12-31", vec![]),
        ] {
            let (status, page) = c.get(&CASHIER, &format!("/api/v1/customers/?ordering=created_at&{query}")).await;
            assert_eq!(status, StatusCode::OK, "{query}: {page}");
            assert_eq!(names(&page), expect, "{query}");
            assert_eq!(page["count"], expect.len(), "{query}");
        }
        let (_, p1) = c.get(&CASHIER, "/api/v1/customers/?ordering=surname&page_size=2").await;
        assert_eq!((p1["count"].as_u64(), names(&p1).len()), (Some(3), 2));
        assert_eq!(p1["previous"], Value::Null);
        let next = p1["next"].as_str().unwrap().to_owned();
        assert!(next.contains("page=2") && next.contains("page_size=2"), "{next}");
        let (_, p2) = c.get(&CASHIER, &next).await;
        assert_eq!((names(&p2), p2["next"].clone()), (vec!["Zamora".to_owned()], Value::Null));
        assert!(p2["previous"].as_str().unwrap().contains("page=1"));
        let (status, found) =
            c.post(&CASHIER, "/api/v1/customers/search/", json!({"query": "maria", "page_size": 5})).await;
        assert_eq!((status, names(&found)), (StatusCode::OK, vec!["Álvarez".to_owned()]));
    }
}

#[tokio::test]
async fn quick_lookup_reads_any_written_form_and_lookup_finds_by_cedula() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let juan = c
            .create(json!({"name": "Juan", "surname": "Pérez", "phone": "+584121234567", "email": "juan@example.com",
                           "identification": "V-12345678", "passport_number": "P1234567"}))
            .await;
        c.create(person("Juana", "Pereira", "04247654321")).await;
        for q in [
            "V-12345678",
            "v12.345.678",
            "12345678",
            "0412-123.45.67",
            "+58 412 1234567",
            "JUAN@EXAMPLE.COM",
            "p 1234567",
        ] {
            let (status, hits) = c.get(&CASHIER, &format!("/api/v1/customers/quick-lookup/?q={}", urlencode(q))).await;
            assert_eq!(status, StatusCode::OK, "{q}");
            assert_eq!(hits["count"], 1, "{q}: {hits}");
            assert_eq!(hits["results"][0]["id"], juan["id"], "{q}");
            assert_eq!(hits["results"][0]["matched_by"]["kind"], "exact", "{q}");
        }
        let (_, hits) = c.get(&CASHIER, "/api/v1/customers/quick-lookup/?q=pere").await;
        assert_eq!(hits["count"], 2, "names by prefix, accent-insensitive");
        let (_, hits) = c.get(&CASHIER, "/api/v1/customers/quick-lookup/?q=0412-12").await;
        assert_eq!(
            (hits["results"][0]["id"].clone(), hits["results"][0]["matched_by"]["kind"].clone()),
            (juan["id"].clone(), json!("prefix"))
        );
        let (status, body) = c.get(&CASHIER, "/api/v1/customers/quick-lookup/").await;
        assert_eq!((status, error_fields(&body)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["q".to_owned()]));

        let (status, found) =
            c.post(&CASHIER, "/api/v1/customers/lookup/", json!({"identification": "v-12.345.678"})).await;
        assert_eq!((status, found["id"].clone()), (StatusCode::OK, juan["id"].clone()));
        let (status, _) = c.post(&CASHIER, "/api/v1/customers/lookup/", json!({"identification": "V-87654321"})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) = c.post(&CASHIER, "/api/v1/customers/lookup/", json!({"identification": "Q-1"})).await;
        assert_eq!(
            (status, error_fields(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["identification".to_owned()])
        );
        let (status, body) = c.post(&CASHIER, "/api/v1/customers/lookup/", json!({})).await;
        assert_eq!(
            (status, error_fields(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["identification".to_owned()])
        );
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn validate_reports_every_error_or_the_normalised_values() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let (status, ok) = c
            .post(
                &CASHIER,
                "/api/v1/customers/validate/",
                json!({"customer_name": "Juan", "customer_surname": "Pérez",
                  "customer_phone": "0414 123 4567", "customer_identification": "v-12345678"}),
            )
            .await;
        assert_eq!((status, ok["is_valid"].clone()), (StatusCode::OK, json!(true)), "{ok}");
        assert_eq!(
            (ok["normalized"]["phone"].as_str(), ok["normalized"]["identification"].as_str()),
            (Some("+584141234567"), Some("V-12345678"))
        );
        assert_eq!(ok["errors"], json!({}));
        let (status, bad) = c
            .post(
                &CASHIER,
                "/api/v1/customers/validate/",
                json!({"name": "Juan", "email": "nope", "date_of_birth": "2999-01-01"}),
            )
            .await;
        assert_eq!((status, bad["is_valid"].clone()), (StatusCode::OK, json!(false)));
        let fields: Vec<&String> = bad["errors"].as_object().unwrap().keys().collect();
        assert_eq!(fields, ["date_of_birth", "email", "surname"]);
        assert_eq!(bad["errors"]["email"][0]["code"], "email_invalid");
        let (_, refused) = c.post(&CASHIER, "/api/v1/customers/", json!({"name": "Juan", "email": "nope"})).await;
        assert_eq!(
            bad["errors"]["email"], refused["error"]["fields"]["email"],
            "validate/ answers the error's field map"
        );
        let (_, list) = c.get(&CASHIER, "/api/v1/customers/?is_active=all").await;
        assert_eq!(list["count"], 0, "validation writes nothing");
    }
}

#[tokio::test]
async fn find_or_create_applies_the_dedupe_rule_and_reactivates() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let url = "/api/v1/customers/find-or-create/";
        let sale = json!({"customer_name": "Juan", "customer_surname": "Pérez", "customer_phone": "+584121234567"});
        let (status, first) = c.post(&CASHIER, url, sale).await;
        assert_eq!((status, first["created"].clone()), (StatusCode::CREATED, json!(true)), "{first}");
        let id = first["customer"]["id"].clone();
        assert_eq!(first["customer"]["source"], "POS");

        let again = json!({"customer_name": "JUAN", "customer_surname": "perez", "customer_phone": "0412-123.45.67",
                           "customer_email": "juan@example.com"});
        let (status, second) = c.post(&CASHIER, url, again).await;
        assert_eq!(
            (status, second["created"].clone(), second["matched_by"].clone()),
            (StatusCode::OK, json!(false), json!("phone"))
        );
        assert_eq!(second["customer"]["id"], id);
        assert_eq!(second["customer"]["email"], "juan@example.com", "a blank is filled");
        assert_eq!(second["customer"]["name"], "Juan", "the existing spelling stays");

        let (status, _) =
            c.call(&MANAGER, "DELETE", &format!("/api/v1/customers/{}/", id.as_str().unwrap()), None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (status, back) = c
            .post(
                &CASHIER,
                url,
                json!({"customer_name": "Juan", "customer_surname": "Pérez", "customer_email": "JUAN@example.com"}),
            )
            .await;
        assert_eq!(
            (status, back["reactivated"].clone(), back["customer"]["is_active"].clone()),
            (StatusCode::OK, json!(true), json!(true))
        );

        // The phone names Juan, the passport another customer: merged into Juan, review opened.
        let other = c
            .create(json!({"name": "Ana", "surname": "Gil", "phone": "04241111111", "passport_number": "X1234567"}))
            .await;
        let (status, mixed) = c
            .post(
                &CASHIER,
                url,
                json!({"customer_name": "Juan", "customer_surname": "Pérez",
                  "customer_phone": "04121234567", "customer_passport": "x1234567"}),
            )
            .await;
        assert_eq!((status, mixed["customer"]["id"].clone()), (StatusCode::OK, id.clone()), "{mixed}");
        assert_eq!(mixed["possible_duplicates"], json!([{"customer_id": other["id"], "key": "passport_number"}]));
        assert_eq!(mixed["customer"]["passport_number"], Value::Null, "the other customer's key stays with them");
        let (_, items) = c.get(&MANAGER, "/api/v1/customers/review-items/").await;
        assert_eq!(items["count"], 1);

        let (status, body) =
            c.post(&CASHIER, url, json!({"customer_name": "Sin", "customer_surname": "Contacto"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error_fields(&body), ["email", "phone"], "the field map is keyed by field name");
    }
}

#[tokio::test]
async fn preferences_read_put_and_patch_with_roles() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let id = id_of(&c.create(person("Juan", "Pérez", "04141234567")).await);
        let url = format!("/api/v1/customers/{id}/preferences/");
        let (status, prefs) = c.get(&CASHIER, &url).await;
        assert_eq!((status, prefs["language"].clone()), (StatusCode::OK, json!("es")));
        assert_eq!(prefs["channels"], json!(["email", "sms", "whatsapp"]));

        let (status, _) = c.call(&CASHIER, "PATCH", &url, Some(json!({"language": "en"}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "cashiers do not edit preferences");
        let (status, patched) = c.call(&MANAGER, "PATCH", &url, Some(json!({"language": "en"}))).await;
        assert_eq!(
            (status, patched["language"].clone(), patched["channels"].clone()),
            (StatusCode::OK, json!("en"), prefs["channels"].clone())
        );

        let window = json!({"start": "08:00:00", "end": "18:00:00", "time_zone": "America/Caracas"});
        let whole = json!({"channels": ["email"], "notification_types": ["promotional"], "language": "es", "contact_window": window});
        let (status, put) = c.call(&MANAGER, "PUT", &url, Some(whole)).await;
        assert_eq!(status, StatusCode::OK, "{put}");
        assert_eq!(
            (put["channels"].clone(), put["contact_window"]["time_zone"].clone()),
            (json!(["email"]), json!("America/Caracas"))
        );
        let (_, again) = c.get(&CASHIER, &url).await;
        assert_eq!(again, put);

        let (status, body) = c.call(&MANAGER, "PUT", &url, Some(json!({"channels": ["email"]}))).await;
        assert_eq!(
            (status, error_fields(&body)),
            (StatusCode::UNPROCESSABLE_ENTITY, vec!["language".to_owned(), "notification_types".to_owned()])
        );
        let (status, body) = c.call(&MANAGER, "PATCH", &url, Some(json!({"channels": ["fax"], "colour": "red"}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error_fields(&body), ["colour"]);
        let (status, body) = c.call(&MANAGER, "PATCH", &url, Some(json!({"channels": ["fax"]}))).await;
        assert_eq!((status, error_fields(&body)), (StatusCode::UNPROCESSABLE_ENTITY, vec!["channels".to_owned()]));
        let (_, unchanged) = c.get(&CASHIER, &url).await;
        assert_eq!(unchanged, put, "refused edits change nothing");
        let (status, _) = c.call(&ADMIN, "PATCH", &url, Some(json!({"language": "en"}))).await;
        assert_eq!(status, StatusCode::OK, "admins may too");
    }
}

#[tokio::test]
async fn rest_writes_reach_terminals_on_pull_with_server_clocks() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let (device, _) = c.terminal().await;
        let (_, before) = c.get(&device, "/api/v1/sync/pull?cursor=0").await;
        let cursor = before["cursor"].as_i64().unwrap();
        let created = c.create(person("Juan", "Pérez", "04141234567")).await;
        let id = id_of(&created);
        let (_, page) = c.get(&device, &format!("/api/v1/sync/pull?cursor={cursor}")).await;
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{page}");
        assert_eq!(items[0]["customer"]["id"], id.as_str());
        let clocks = |customer: &Value| serde_json::from_value::<Customer>(customer.clone()).unwrap().clocks;
        let phone_clock = clocks(&items[0]["customer"])["phone"];
        assert!(phone_clock > pos_core::Hlc::ZERO, "every field carries the server's clock: {}", items[0]);

        let cursor = page["cursor"].as_i64().unwrap();
        c.call(&MANAGER, "PATCH", &format!("/api/v1/customers/{id}/"), Some(json!({"city": "Valencia"}))).await;
        c.call(&MANAGER, "PATCH", &format!("/api/v1/customers/{id}/preferences/"), Some(json!({"language": "en"})))
            .await;
        let (_, page) = c.get(&device, &format!("/api/v1/sync/pull?cursor={cursor}")).await;
        let items = page["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "{page}");
        assert_eq!(items[0]["customer"]["city"], "Valencia");
        assert!(clocks(&items[0]["customer"])["city"] > phone_clock, "a later edit has a later clock");
        assert_eq!(items[1]["preferences"]["language"], "en");
        // A terminal (cashier rights) may use the REST API too.
        let (status, _) = c.get(&device, &format!("/api/v1/customers/{id}/")).await;
        assert_eq!(status, StatusCode::OK);
    }
}

#[tokio::test]
async fn concurrent_captures_of_one_person_leave_one_customer() {
    for b in common::backends().await {
        let c = Client::new(&b.state, b.org).await;
        let sale = json!({"customer_name": "Juan", "customer_surname": "Pérez", "customer_phone": "04141234567"});
        let finds = (0..12).map(|_| {
            let (c, sale) = (c.clone(), sale.clone());
            tokio::spawn(async move { c.post(&CASHIER, "/api/v1/customers/find-or-create/", sale).await })
        });
        let strict = (0..6).map(|_| {
            let c = c.clone();
            tokio::spawn(async move {
                c.post(&CASHIER, "/api/v1/customers/", json!({"name": "Ana", "surname": "Gil", "email": "ana@x.com"}))
                    .await
            })
        });
        let finds: Vec<_> = futures_join(finds.collect()).await;
        let strict: Vec<_> = futures_join(strict.collect()).await;
        let ids: std::collections::BTreeSet<String> =
            finds.iter().map(|(_, body)| body["customer"]["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!(ids.len(), 1, "every checkout found the same customer");
        assert!(finds.iter().all(|(s, _)| *s == StatusCode::OK || *s == StatusCode::CREATED));
        let created = strict.iter().filter(|(s, _)| *s == StatusCode::CREATED).count();
        let refused = strict.iter().filter(|(s, _)| *s == StatusCode::CONFLICT).count();
        assert_eq!((created, refused), (1, 5), "{strict:?}");
        let (_, list) = c.get(&CASHIER, "/api/v1/customers/?is_active=all").await;
        assert_eq!(list["count"], 2, "one Juan, one Ana");
    }
}

async fn futures_join<T>(handles: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}
