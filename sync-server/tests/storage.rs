//! The server's storage on SQLite and PostgreSQL: exactly-once pushes, the central merge, pull
//! paging, concurrent pushes keeping DESIGN.md I1, and the account tables behind auth.

mod common;

use chrono::{Duration, Utc};
use pos_core::merge::{FieldMap, Stamped};
use pos_core::wire::{Change, ChangeBody, ChangeOutcome, PulledItem};
use pos_core::Hlc;
use serde_json::json;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use sync_server::db::RefreshUse;
use uuid::Uuid;

fn customer_change(device: Uuid, id: Uuid, fields: &[(&str, serde_json::Value)]) -> Change {
    let clock = Hlc { wall_ms: Utc::now().timestamp_millis() as u64, counter: 0, node: device.as_u64_pair().1 };
    let mut map: FieldMap = fields.iter().map(|(k, v)| (k.to_string(), Stamped { value: v.clone(), clock })).collect();
    map.entry("first_name".into()).or_insert(Stamped { value: json!("Ana"), clock });
    map.entry("surname".into()).or_insert(Stamped { value: json!("Rojas"), clock });
    Change { change_id: Uuid::now_v7(), device_id: device, body: ChangeBody::Customer { id, fields: map } }
}

async fn live_customers(b: &common::Backend) -> Vec<pos_core::Customer> {
    all_customers(b).await.into_values().filter(|c| c.merged_into.is_none()).collect()
}

/// Every customer row of the organisation as stored now, tombstones included.
async fn all_customers(b: &common::Backend) -> std::collections::BTreeMap<Uuid, pos_core::Customer> {
    let mut cursor = 0;
    let mut all = std::collections::BTreeMap::new();
    loop {
        let page = b.state.db.pull(b.org, cursor, 100).await.unwrap();
        for item in page.items {
            if let PulledItem::Customer { customer } = item {
                all.insert(customer.id, *customer);
            }
        }
        cursor = page.cursor;
        if !page.has_more {
            break;
        }
    }
    all
}

#[tokio::test]
async fn pushes_merge_the_same_person_and_replays_change_nothing() {
    for b in common::backends().await {
        let device = Uuid::now_v7();
        let (x, y) = (Uuid::now_v7(), Uuid::now_v7());
        let first = customer_change(device, x, &[("phone", json!("+584141234567"))]);
        let second = customer_change(device, y, &[("phone", json!("+584141234567")), ("email", json!("ana@x.com"))]);
        let r = b.state.db.push(b.org, device, vec![first.clone(), second.clone()], &b.state.clock).await.unwrap();
        assert_eq!(r.results[0].outcome, ChangeOutcome::Applied);
        assert_eq!(r.results[1].outcome, ChangeOutcome::MergedInto { target: x });
        let live = live_customers(&b).await;
        assert_eq!(live.len(), 1, "{}", b.state.db.backend_name());
        assert_eq!(live[0].email.as_deref(), Some("ana@x.com"));

        let (before, rows) = (b.state.db.pull(b.org, 0, 1000).await.unwrap().cursor, all_customers(&b).await);
        let again = b.state.db.push(b.org, device, vec![first, second], &b.state.clock).await.unwrap();
        assert_eq!(again.results, r.results, "a replay gets the same answers");
        assert_eq!(all_customers(&b).await, rows, "and changes nothing");
        // Its rows are written again, so a terminal that pulled them while its answer was lost
        // pulls them once more after it.
        assert_eq!(
            b.state.db.pull(b.org, before, 1000).await.unwrap().items.len(),
            2,
            "the survivor and the tombstone"
        );
    }
}

#[tokio::test]
async fn a_push_can_move_a_key_between_stored_customers_whatever_their_order() {
    for b in common::backends().await {
        let device = Uuid::now_v7();
        let (ana, rosa) = (Uuid::now_v7(), Uuid::now_v7());
        let (old_phone, new_phone) = ("+584141234567", "+584241234567");
        let setup = vec![
            customer_change(device, ana, &[("phone", json!(old_phone)), ("email", json!("ana@x.com"))]),
            customer_change(device, rosa, &[("email", json!("rosa@x.com"))]),
        ];
        b.state.db.push(b.org, device, setup, &b.state.clock).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        // Rosa is touched first, then Ana gives up her phone, then Rosa takes it.
        let handover = vec![
            customer_change(device, rosa, &[("notes", json!("VIP"))]),
            customer_change(device, ana, &[("phone", json!(new_phone))]),
            customer_change(device, rosa, &[("phone", json!(old_phone))]),
        ];
        let r = b.state.db.push(b.org, device, handover, &b.state.clock).await;
        let name = b.state.db.backend_name();
        let r = r.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(r.results.iter().all(|r| r.outcome == ChangeOutcome::Applied), "{name}: {:?}", r.results);
        let phone_of =
            |customers: &[pos_core::Customer], id| customers.iter().find(|c| c.id == id).unwrap().phone.clone();
        let live = live_customers(&b).await;
        assert_eq!(phone_of(&live, ana).as_deref(), Some(new_phone), "{name}");
        assert_eq!(phone_of(&live, rosa).as_deref(), Some(old_phone), "{name}");
    }
}

/// A push of hundreds of changes (its lookups then run on two connections at once, both engines)
/// finds what is stored by each key, by id and by change id.
#[tokio::test]
async fn a_large_push_finds_stored_customers_by_every_key_id_and_change_id() {
    for b in common::backends().await {
        let name = b.state.db.backend_name();
        let device = Uuid::now_v7();
        let stored: Vec<pos_core::Customer> = (0..400).map(|i| pos_demo::customer(7, i)).collect();
        let first: Vec<Change> = stored.iter().map(|c| pos_demo::as_change(c, device)).collect();
        let r = b.state.db.push(b.org, device, first.clone(), &b.state.clock).await.unwrap();
        assert!(r.results.iter().all(|c| c.outcome == ChangeOutcome::Applied), "{name}: {r:?}");

        // Each stored person is reached one way only: again under a new id carrying one of its
        // keys (a phone or an email is required, so the others carry a new email too), or
        // edited by id with nothing but a note.
        let mut groups: [Vec<&pos_core::Customer>; 5] = Default::default();
        for person in &stored {
            let group = match () {
                _ if groups[0].len() < 60 => 0,
                _ if groups[1].len() < 40 && person.email.is_some() => 1,
                _ if groups[2].len() < 20 && person.passport_number.is_some() => 2,
                _ if groups[3].len() < 60 => 3,
                _ => 4,
            };
            groups[group].push(person);
        }
        let [by_phone, by_email, by_passport, by_cedula, by_id] = &groups;
        assert!(by_passport.len() == 20 && by_id.len() >= 40, "{name}: the generated people cover every group");
        let (mut again, mut expected) = (Vec::new(), Vec::new());
        for (key, people) in
            [("phone", by_phone), ("email", by_email), ("passport", by_passport), ("cedula", by_cedula)]
        {
            for person in people {
                let mut c = pos_core::Customer { id: Uuid::now_v7(), ..(*person).clone() };
                let new_email = Some(format!("again.{}@example.com", person.id.as_u64_pair().1));
                c.phone = c.phone.filter(|_| key == "phone");
                c.email = if key == "email" { c.email } else { new_email.filter(|_| key != "phone") };
                c.passport_number = c.passport_number.filter(|_| key == "passport");
                c.identification = c.identification.filter(|_| key == "cedula");
                again.push(pos_demo::as_change(&c, device));
                expected.push(ChangeOutcome::MergedInto { target: person.id });
            }
        }
        for person in by_id {
            let mut change = pos_demo::as_change(person, device);
            if let ChangeBody::Customer { fields, .. } = &mut change.body {
                let clock = Hlc { wall_ms: Utc::now().timestamp_millis() as u64, ..fields["notes"].clock };
                *fields = [("notes".to_owned(), Stamped { value: json!("came back"), clock })].into();
            }
            again.push(change);
            expected.push(ChangeOutcome::Applied);
        }
        let r = b.state.db.push(b.org, device, again.clone(), &b.state.clock).await.unwrap();
        let outcomes: Vec<ChangeOutcome> = r.results.into_iter().map(|c| c.outcome).collect();
        assert_eq!(outcomes, expected, "{name}");
        let live = live_customers(&b).await;
        assert_eq!(live.len(), 400, "{name}: no one was created twice");
        let noted = live.iter().filter(|c| c.notes.as_deref() == Some("came back")).count();
        assert_eq!(noted, by_id.len(), "{name}");

        // Both pushes again: every change is found by its id, answered as before, and nothing
        // changes.
        let rows = all_customers(&b).await;
        let replay: Vec<Change> = first.into_iter().chain(again).collect();
        let r = b.state.db.push(b.org, device, replay, &b.state.clock).await.unwrap();
        let outcomes: Vec<ChangeOutcome> = r.results.into_iter().map(|c| c.outcome).collect();
        let before = std::iter::repeat_n(ChangeOutcome::Applied, stored.len()).chain(expected);
        assert_eq!(outcomes, before.collect::<Vec<_>>(), "{name}");
        assert_eq!(all_customers(&b).await, rows, "{name}: a replay changes nothing");
    }
}

#[tokio::test]
async fn pull_pages_follow_the_sequence_without_gaps() {
    for b in common::backends().await {
        let device = Uuid::now_v7();
        let changes: Vec<Change> = (0..25)
            .map(|i| customer_change(device, Uuid::now_v7(), &[("phone", json!(format!("+5841200000{i:02}")))]))
            .collect();
        b.state.db.push(b.org, device, changes, &b.state.clock).await.unwrap();
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut pages = 0;
        loop {
            let page = b.state.db.pull(b.org, cursor, 10).await.unwrap();
            pages += 1;
            for item in &page.items {
                let PulledItem::Customer { customer } = item else { panic!() };
                assert!(seen.insert(customer.id), "no row twice");
            }
            assert!(page.cursor >= cursor);
            cursor = page.cursor;
            if !page.has_more {
                break;
            }
        }
        assert_eq!((seen.len(), pages), (25, 3));
    }
}

#[tokio::test]
async fn concurrent_pushes_of_overlapping_customers_leave_no_duplicate() {
    for b in common::backends().await {
        let mut tasks = Vec::new();
        for t in 0..8 {
            let state = b.state.clone();
            let org = b.org;
            tasks.push(tokio::spawn(async move {
                let device = Uuid::now_v7();
                // Every task captures the same 20 people (by phone), each under its own ids.
                let changes: Vec<Change> = (0..20)
                    .map(|i| {
                        customer_change(
                            device,
                            Uuid::now_v7(),
                            &[("phone", json!(format!("+5842400000{i:02}"))), ("notes", json!(format!("task {t}")))],
                        )
                    })
                    .collect();
                for chunk in changes.chunks(5) {
                    let r = state.db.push(org, device, chunk.to_vec(), &state.clock).await.unwrap();
                    assert!(r.results.iter().all(|c| !matches!(c.outcome, ChangeOutcome::Rejected { .. })), "{r:?}");
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let live = live_customers(&b).await;
        let phones: HashSet<_> = live.iter().filter_map(|c| c.phone.clone()).collect();
        assert_eq!((live.len(), phones.len()), (20, 20), "{}: one live customer per person", b.state.db.backend_name());
    }
}

/// On SQLite pushes are written through rusqlite and the explicit merge through sqlx; on
/// PostgreSQL both queue on the organisation's row. Either way writers are served in arrival
/// order: a merge asked for while terminals stream pushes lands among them, not after the
/// stream (or failing when the stream outlasts SQLite's busy timeout).
#[tokio::test]
async fn an_explicit_merge_while_terminals_push_waits_its_turn_not_the_whole_stream() {
    const TASKS: usize = 4;
    const PUSHES: usize = 10;
    for b in common::backends().await {
        let name = b.state.db.backend_name();
        let device = Uuid::now_v7();
        let (kept, gone) = (Uuid::now_v7(), Uuid::now_v7());
        let pair = vec![
            customer_change(device, kept, &[("phone", json!("+584121110001"))]),
            customer_change(device, gone, &[("phone", json!("+584121110002"))]),
        ];
        b.state.db.push(b.org, device, pair, &b.state.clock).await.unwrap();
        let pushed = Arc::new(AtomicUsize::new(0));
        let mut pushes = Vec::new();
        for t in 0..TASKS {
            let (state, org, pushed) = (b.state.clone(), b.org, pushed.clone());
            pushes.push(tokio::spawn(async move {
                let device = Uuid::now_v7();
                for p in 0..PUSHES {
                    let changes = (0..200)
                        .map(|i| {
                            let phone = format!("+58424{t}{p}{i:05}");
                            customer_change(device, Uuid::now_v7(), &[("phone", json!(phone))])
                        })
                        .collect();
                    let r = state.db.push(org, device, changes, &state.clock).await.unwrap();
                    let refused = r.results.iter().find(|c| c.outcome != ChangeOutcome::Applied);
                    assert!(refused.is_none(), "{refused:?}");
                    pushed.fetch_add(1, Ordering::SeqCst);
                }
            }));
        }
        while pushed.load(Ordering::SeqCst) < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let actor = sync_server::db::Actor::User(Uuid::now_v7());
        let merged = b.state.db.merge_customers(b.org, kept, gone, actor, &b.state.clock).await.unwrap();
        let pushed_by_then = pushed.load(Ordering::SeqCst);
        assert!(merged.is_some(), "{name}: the merge found both customers");
        assert!(pushed_by_then < TASKS * PUSHES, "{name}: the merge waited for every push ({pushed_by_then})");
        for push in pushes {
            push.await.unwrap();
        }
        let live = live_customers(&b).await;
        assert_eq!(live.len(), 1 + TASKS * PUSHES * 200, "{name}");
        assert!(live.iter().any(|c| c.id == kept) && !live.iter().any(|c| c.id == gone));
    }
}

#[tokio::test]
async fn refresh_tokens_rotate_once_and_reuse_revokes_the_family() {
    for b in common::backends().await {
        let db = &b.state.db;
        let user = db.create_user(b.org, &format!("u-{}", Uuid::now_v7()), "hash", "cashier").await.unwrap();
        let family = Uuid::now_v7();
        let token = |name: &str| format!("{name}-{family}");
        let expires = Utc::now() + Duration::days(1);
        db.store_refresh_token(&token("first"), b.org, family, user, expires).await.unwrap();
        db.store_refresh_token(&token("second"), b.org, family, user, expires).await.unwrap();
        assert!(matches!(db.use_refresh_token(&token("first")).await.unwrap(), RefreshUse::Fresh { .. }));
        assert_eq!(db.use_refresh_token(&token("first")).await.unwrap(), RefreshUse::Reused);
        assert_eq!(db.use_refresh_token(&token("second")).await.unwrap(), RefreshUse::Reused, "the family is revoked");
        assert_eq!(db.use_refresh_token(&token("never-issued")).await.unwrap(), RefreshUse::Unknown);
        db.store_refresh_token(&token("expired"), b.org, Uuid::now_v7(), user, Utc::now() - Duration::seconds(1))
            .await
            .unwrap();
        assert!(
            !matches!(db.use_refresh_token(&token("expired")).await.unwrap(), RefreshUse::Fresh { .. }),
            "expired tokens are refused"
        );
    }
}

#[tokio::test]
async fn registration_codes_work_once() {
    for b in common::backends().await {
        let db = &b.state.db;
        let code = format!("c-{}", Uuid::now_v7());
        db.create_registration_code(&code, b.org, None, Utc::now() + Duration::days(1)).await.unwrap();
        let device =
            db.register_device(&code, Uuid::now_v7(), "Caja 1", "secret-hash").await.unwrap().expect("first use");
        assert_eq!(device.organization_id, b.org);
        assert!(
            db.register_device(&code, Uuid::now_v7(), "Caja 2", "other").await.unwrap().is_none(),
            "second use refused"
        );
        assert!(db.revoke_device(b.org, device.id).await.unwrap());
        assert!(db.device(device.id).await.unwrap().unwrap().revoked);
    }
}

/// PostgreSQL plans a push's key lookups from its statistics; an organisation that grew from
/// nothing in minutes has none, and its lookups would scan the whole organisation. A push that
/// takes the organisation past 4,096 changes refreshes them (`ANALYZE`, in the background).
#[tokio::test]
async fn postgres_statistics_are_refreshed_when_an_organisation_grows() {
    let url = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| common::POSTGRES_DEFAULT.to_owned());
    let db = sync_server::db::Db::connect(&url).await.expect("PostgreSQL");
    let state = sync_server::AppState::new(db.clone()).await.unwrap();
    let stats = sqlx::PgPool::connect(&url).await.unwrap();
    let last_analyze = || async {
        sqlx::query_scalar::<_, Option<f64>>(
            "SELECT extract(epoch FROM last_analyze)::float8 FROM pg_stat_user_tables \
             WHERE relname = 'customers' AND schemaname = current_schema()",
        )
        .fetch_one(&stats)
        .await
        .unwrap()
    };
    let before = last_analyze().await;
    let org = db.create_organization(&format!("test-{}", Uuid::now_v7())).await.unwrap();
    let device = Uuid::now_v7();
    let changes: Vec<Change> = (0..4_100)
        .map(|i| {
            let mut c = pos_demo::customer(7_070, i);
            c.organization_id = org;
            pos_demo::as_change(&c, device)
        })
        .collect();
    let small = db.push(org, device, changes[..100].to_vec(), &state.clock).await.unwrap();
    assert!(small.results.iter().all(|r| r.outcome == ChangeOutcome::Applied));
    let large = db.push(org, device, changes[100..].to_vec(), &state.clock).await.unwrap();
    assert!(large.results.iter().all(|r| r.outcome == ChangeOutcome::Applied));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let now = last_analyze().await;
        if now.is_some() && now > before {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no ANALYZE after the push (last: {now:?})");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// Migration 3 made the key indexes partial (`WHERE phone IS NOT NULL`, …). A push looks its
/// keys up with `IN (…)` and the REST API with `=`; both must still be answered from the key
/// index, not by reading the organisation (which the merge benchmark would show as a collapse).
#[tokio::test]
async fn key_lookups_use_the_partial_key_indexes() {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = sync_server::db::Db::default_sqlite_url(dir.path());
    let postgres = std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| common::POSTGRES_DEFAULT.to_owned());
    for (url, explain) in [
        (sqlite.as_str(), "EXPLAIN QUERY PLAN SELECT data FROM customers WHERE organization_id = 'o' AND"),
        // PostgreSQL chooses among usable indexes by statistics (which other tests change), so
        // it is asked without the organisation: then only the key index can answer, and with
        // scans priced out the plan names it exactly when its condition is implied.
        (postgres.as_str(), "SET enable_seqscan = off; EXPLAIN SELECT data FROM customers WHERE"),
    ] {
        sync_server::db::Db::connect(url).await.expect("database");
        let pool =
            sqlx::AnyPool::connect(&format!("{url}{}", if url == sqlite { "?mode=rw" } else { "" })).await.unwrap();
        for column in ["phone", "email", "identification", "passport_number"] {
            for predicate in [format!("{column} IN ('x', 'y')"), format!("{column} = 'x'")] {
                let sql = format!("{explain} {predicate}");
                let plan: Vec<String> = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&pool)
                    .await
                    .unwrap()
                    .iter()
                    .map(|row| {
                        use sqlx::Row;
                        let last = row.columns().len() - 1;
                        row.try_get::<String, _>(last).unwrap_or_default()
                    })
                    .collect();
                let index = if column == "passport_number" {
                    "customers_passport".to_owned()
                } else {
                    format!("customers_{column}")
                };
                assert!(
                    plan.iter().any(|line| line.contains(&index)),
                    "{url}: {predicate} is not answered from {index}: {plan:?}"
                );
            }
        }
    }
    // SQLite re-prepares a statement on every new binding when a partial index's usability
    // depends on the bound value; `IS NOT NULL` must not, or each push would recompile its
    // thousand-value IN lists.
    let conn = rusqlite::Connection::open(dir.path().join("server.db")).unwrap();
    let mut lookup =
        conn.prepare("SELECT data FROM customers WHERE organization_id = ?1 AND phone IN (?2, ?3)").unwrap();
    for phones in [["+584141111111", "+584142222222"], ["+584143333333", "+584144444444"]] {
        lookup.query_map(rusqlite::params!["o", phones[0], phones[1]], |_| Ok(())).unwrap().for_each(drop);
    }
    assert_eq!(lookup.get_status(rusqlite::StatementStatus::RePrepare), 0);
}
