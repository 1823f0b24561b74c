//! A change storage refuses never wedges a terminal's queue: the push answers that one change
//! rejected and applies the rest, on both engines; and a NUL in a name is refused by validation,
//! naming the field, before it reaches PostgreSQL (which cannot store it).

#[allow(dead_code)]
mod client;
mod common;

use axum::http::StatusCode;
use chrono::Utc;
use client::{error_fields, Client, CASHIER};
use pos_core::merge::{FieldMap, Stamped};
use pos_core::wire::{Change, ChangeBody, ChangeOutcome, PulledItem, PushRequest};
use pos_core::{ErrorCode, Hlc};
use serde_json::{json, Value};
use std::collections::HashSet;
use sync_server::db::Db;
use sync_server::AppState;
use uuid::Uuid;

/// Notes holding this are refused by the trigger the test installs. The trigger stands in for
/// every reason storage may refuse a row that validation passed (a NUL PostgreSQL cannot hold
/// was one; a constraint added later, a value out of a column's range, are others): a real
/// error of the engine, raised while the push writes its batch.
const REFUSED: &str = "refused-by-the-unstorable-test";

/// Idempotent, so runs that share the database leave one trigger behind, which refuses only
/// this test's marker.
const POSTGRES_TRIGGER: &str = "
    CREATE OR REPLACE FUNCTION refuse_marked_customers() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.data LIKE '%refused-by-the-unstorable-test%' THEN
        RAISE EXCEPTION 'refused by the test' USING ERRCODE = 'check_violation';
      END IF;
      RETURN NEW;
    END $$;
    CREATE OR REPLACE TRIGGER refuse_marked_customers BEFORE INSERT OR UPDATE ON customers
      FOR EACH ROW EXECUTE FUNCTION refuse_marked_customers();";

/// A new customer's change, with `notes`.
fn new_customer(device: Uuid, email: &str, notes: &str) -> Change {
    let clock = Hlc { wall_ms: Utc::now().timestamp_millis() as u64, counter: 0, node: device.as_u64_pair().1 };
    let stamped = |v: Value| Stamped { value: v, clock };
    let fields: FieldMap = [
        ("first_name", stamped(json!("Ana"))),
        ("surname", stamped(json!("Rojas"))),
        ("email", stamped(json!(email))),
        ("notes", stamped(json!(notes))),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    Change { change_id: Uuid::now_v7(), device_id: device, body: ChangeBody::Customer { id: Uuid::now_v7(), fields } }
}

/// Both engines, each with the refusing trigger on its customers table.
async fn refusing_backends() -> Vec<(AppState, Uuid, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = Db::default_sqlite_url(dir.path());
    let sqlite = Db::connect(&sqlite_url).await.expect("sqlite");
    let conn = rusqlite::Connection::open(dir.path().join("server.db")).unwrap();
    conn.execute_batch(&format!(
        "CREATE TRIGGER refuse_marked_customers BEFORE INSERT ON customers
         WHEN NEW.data LIKE '%{REFUSED}%' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
    ))
    .unwrap();
    drop(conn);

    let url = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| common::POSTGRES_DEFAULT.to_owned());
    let postgres = Db::connect(&url).await.unwrap_or_else(|e| panic!("PostgreSQL at {url} is required: {e}"));
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    assert!(POSTGRES_TRIGGER.contains(REFUSED));
    sqlx::raw_sql(POSTGRES_TRIGGER).execute(&pool).await.unwrap();
    pool.close().await;

    let mut out = Vec::new();
    for (db, dir) in [(sqlite, Some(dir)), (postgres, None)] {
        let org = db.create_organization(&format!("test-{}", Uuid::now_v7())).await.unwrap();
        out.push((AppState::new(db).await.unwrap(), org, dir));
    }
    out
}

#[tokio::test]
async fn a_change_storage_refuses_is_rejected_alone_and_the_batch_applies() {
    for (state, org, _dir) in refusing_backends().await {
        let engine = state.db.backend_name();
        let device = Uuid::now_v7();
        let batch: Vec<Change> = (0..7)
            .map(|i| new_customer(device, &format!("ana{i}@example.com"), if i == 4 { REFUSED } else { "VIP" }))
            .collect();
        let answer = state.db.push(org, device, batch.clone(), &state.clock).await.expect("a push never fails whole");
        assert_eq!(answer.results.len(), 7, "{engine}");
        for (i, (result, change)) in answer.results.iter().zip(&batch).enumerate() {
            assert_eq!(result.change_id, change.change_id, "{engine}: in order");
            match (&result.outcome, i) {
                (ChangeOutcome::Rejected { errors }, 4) => {
                    assert_eq!(errors.code_for("change"), Some(ErrorCode::Unstorable), "{engine}");
                    let json = serde_json::to_string(errors).unwrap();
                    assert!(!json.contains("refused by the test"), "{engine}: the internal error stays in the log");
                }
                (ChangeOutcome::Applied, i) if i != 4 => {}
                (other, i) => panic!("{engine}: change {i} answered {other:?}"),
            }
        }
        let page = state.db.pull(org, 0, 100).await.unwrap();
        let stored: HashSet<String> = page
            .items
            .iter()
            .filter_map(|item| match item {
                PulledItem::Customer { customer } => customer.email.clone(),
                _ => None,
            })
            .collect();
        let expected: HashSet<String> = (0..7).filter(|i| *i != 4).map(|i| format!("ana{i}@example.com")).collect();
        assert_eq!(stored, expected, "{engine}: the rest of the batch applied");

        let again = state.db.push(org, device, batch, &state.clock).await.unwrap();
        assert_eq!(again.results, answer.results, "{engine}: a replay is answered the same");
    }
}

#[tokio::test]
async fn a_nul_in_a_name_is_refused_naming_the_field_on_push_and_find_or_create() {
    for b in common::backends().await {
        let engine = b.state.db.backend_name();
        let c = Client::new(&b.state, b.org).await;
        let (status, body) = c
            .post(
                &CASHIER,
                "/api/v1/customers/find-or-create/",
                json!({"customer_name": "Ana\u{0}", "customer_surname": "Rojas", "customer_phone": "+584121234567"}),
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{engine}: {body}");
        assert_eq!(error_fields(&body), ["first_name"], "{engine}: {body}");
        assert_eq!(body["error"]["fields"]["first_name"][0]["code"], "control_character", "{engine}: {body}");

        let terminal = c.terminal().await;
        let mut change = new_customer(terminal.1, "ana@example.com", "VIP");
        if let ChangeBody::Customer { fields, .. } = &mut change.body {
            fields.get_mut("first_name").unwrap().value = json!("Ana\u{0}");
        }
        let good = new_customer(terminal.1, "rosa@example.com", "VIP");
        let request = PushRequest { changes: vec![change, good] };
        let (status, body) = c.post(&terminal.0, "/api/v1/sync/push", serde_json::to_value(&request).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{engine}: {body}");
        assert_eq!(body["results"][0]["status"], "rejected", "{engine}: {body}");
        let errors = &body["results"][0]["errors"];
        assert!(
            errors.as_array().unwrap().iter().any(|e| e["field"] == "first_name" && e["code"] == "control_character"),
            "{engine}: {body}"
        );
        assert_eq!(body["results"][1]["status"], "applied", "{engine}: {body}");
    }
}
