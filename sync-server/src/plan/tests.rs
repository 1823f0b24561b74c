//! The central merge decided on in-memory snapshots: every rule of DESIGN.md's dedupe section.

use super::*;
use chrono::TimeZone;
use pos_core::merge::Stamped;
use serde_json::json;

const ORG: Uuid = Uuid::from_u128(0x0e);
const DEVICE: Uuid = Uuid::from_u128(0xd1);

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
}

fn clock() -> HlcClock {
    HlcClock::new(0x5e, Hlc::ZERO)
}

fn stamp(wall_ms: u64) -> Hlc {
    Hlc { wall_ms, counter: 0, node: 0xd1 }
}

fn new_customer(id: u128, fields: &[(&str, serde_json::Value)], wall_ms: u64) -> Change {
    let mut map: FieldMap =
        fields.iter().map(|(k, v)| (k.to_string(), Stamped { value: v.clone(), clock: stamp(wall_ms) })).collect();
    map.entry("first_name".into()).or_insert(Stamped { value: json!("Ana"), clock: stamp(wall_ms) });
    map.entry("surname".into()).or_insert(Stamped { value: json!("Rojas"), clock: stamp(wall_ms) });
    Change {
        change_id: Uuid::now_v7(),
        device_id: DEVICE,
        body: ChangeBody::Customer { id: Uuid::from_u128(id), fields: map },
    }
}

fn run(changes: &[Change], snapshot: Snapshot) -> Plan {
    plan(ORG, DEVICE, changes, snapshot, &mut clock(), now())
}

fn snapshot_of(plan: &Plan) -> Snapshot {
    let mut s = Snapshot::default();
    for c in &plan.customers {
        s.customers.insert(c.id, c.clone());
    }
    for (id, outcome) in &plan.applied {
        s.applied.insert(*id, outcome.clone());
    }
    s
}

#[test]
fn the_same_person_typed_twice_becomes_one_customer() {
    let a = new_customer(1, &[("phone", json!("+584141234567"))], 1_000);
    let b = new_customer(2, &[("phone", json!("+584141234567")), ("city", json!("Coro"))], 2_000);
    let p = run(&[a, b], Snapshot::default());
    assert_eq!(p.results[0].outcome, ChangeOutcome::Applied);
    assert_eq!(p.results[1].outcome, ChangeOutcome::MergedInto { target: Uuid::from_u128(1) });
    let live: Vec<_> = p.customers.iter().filter(|c| c.merged_into.is_none()).collect();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0].city.as_deref(), Some("Coro"));
    let tombstone = p.customers.iter().find(|c| c.id == Uuid::from_u128(2)).unwrap();
    assert_eq!((tombstone.merged_into, tombstone.phone.as_deref()), (Some(Uuid::from_u128(1)), None));
    assert_eq!(p.merges.len(), 1);
}

#[test]
fn cross_key_hit_merges_by_priority_and_opens_a_review() {
    let setup = run(
        &[
            new_customer(1, &[("phone", json!("+584121111111"))], 1),
            new_customer(2, &[("email", json!("ana@x.com"))], 1),
        ],
        Snapshot::default(),
    );
    let incoming = new_customer(3, &[("phone", json!("+584121111111")), ("email", json!("ana@x.com"))], 5);
    let p = run(&[incoming], snapshot_of(&setup));
    assert_eq!(p.results[0].outcome, ChangeOutcome::MergedInto { target: Uuid::from_u128(1) });
    assert_eq!(
        p.reviews,
        vec![Review { customer_a: Uuid::from_u128(1), customer_b: Uuid::from_u128(2), key: KeyKind::Email }]
    );
    let a = p.customers.iter().find(|c| c.id == Uuid::from_u128(1)).unwrap();
    assert_eq!(a.email, None, "the email stays with the customer that owns it");
    // Customer 1 is updated in place, its keys unchanged; only the tombstone of 3 is a new row.
    assert_eq!(p.created, HashSet::from([Uuid::from_u128(3)]));
    assert!(p.rekeyed.is_empty(), "{:?}", p.rekeyed);
}

#[test]
fn a_replayed_change_is_answered_but_not_applied_again() {
    let a = new_customer(1, &[("phone", json!("+584141234567"))], 1);
    let first = run(std::slice::from_ref(&a), Snapshot::default());
    let again = run(&[a], snapshot_of(&first));
    assert_eq!(again.results[0].outcome, ChangeOutcome::Applied);
    assert!(again.applied.is_empty(), "not recorded again");
    // Written again unchanged, so a terminal that pulled it before its answer came back pulls
    // it once more after.
    assert_eq!(again.customers, first.customers);
    assert!(again.created.is_empty() && again.rekeyed.is_empty());
}

fn edit(id: u128, fields: &[(&str, serde_json::Value)], wall_ms: u64) -> Change {
    let map: FieldMap =
        fields.iter().map(|(k, v)| (k.to_string(), Stamped { value: v.clone(), clock: stamp(wall_ms) })).collect();
    Change {
        change_id: Uuid::now_v7(),
        device_id: DEVICE,
        body: ChangeBody::Customer { id: Uuid::from_u128(id), fields: map },
    }
}

#[test]
fn an_edit_giving_a_customer_a_key_someone_else_holds_applies_the_rest_and_opens_a_review() {
    // A terminal's find-or-create matched customer 1 by phone and filled its blank cédula and
    // passport; at the server customer 2 already holds that cédula (the same person captured
    // elsewhere with other keys). The cédula stays with 2, the passport and city go to 1.
    let setup = run(
        &[
            new_customer(1, &[("phone", json!("+584121111111"))], 1),
            new_customer(2, &[("email", json!("ana@x.com")), ("identification", json!("V-12345678"))], 1),
        ],
        Snapshot::default(),
    );
    let filled = edit(
        1,
        &[("identification", json!("V-12345678")), ("passport_number", json!("P123456")), ("city", json!("Coro"))],
        5,
    );
    assert!(setup.results.iter().all(|r| r.outcome == ChangeOutcome::Applied), "{:?}", setup.results);
    let p = run(&[filled], snapshot_of(&setup));
    assert_eq!(p.results[0].outcome, ChangeOutcome::Applied, "{:?}", p.results);
    let one = p.customers.iter().find(|c| c.id == Uuid::from_u128(1)).unwrap();
    assert_eq!(one.identification, None, "the cédula stays with its owner");
    assert_eq!((one.passport_number.as_deref(), one.city.as_deref()), (Some("P123456"), Some("Coro")));
    assert_eq!(
        p.reviews,
        vec![Review { customer_a: Uuid::from_u128(1), customer_b: Uuid::from_u128(2), key: KeyKind::Identification }]
    );
    // The kept cédula is the stored one, with its clock: the terminal that sent the edit
    // takes it from the row it pulls once the edit is acknowledged.
    let stored = setup.customers.iter().find(|c| c.id == Uuid::from_u128(1)).unwrap().to_fields();
    assert_eq!(one.to_fields()["identification"], stored["identification"]);
}

#[test]
fn an_edit_that_changes_nothing_still_writes_its_customer_again() {
    let setup =
        run(&[new_customer(1, &[("phone", json!("+584121111111")), ("city", json!("Coro"))], 10)], Snapshot::default());
    // An older write of the city loses to the stored one: nothing changes, but the terminal
    // that sent it holds the older value and must pull the row again.
    let p = run(&[edit(1, &[("city", json!("Mérida"))], 5)], snapshot_of(&setup));
    assert_eq!(p.results[0].outcome, ChangeOutcome::Applied);
    let fields = |plan: &Plan| plan.customers.iter().map(Customer::to_fields).collect::<Vec<_>>();
    assert_eq!(fields(&p), fields(&setup));
}

#[test]
fn a_merge_fills_a_blank_and_keeps_the_earlier_captures_origin() {
    // The later capture (customer 1, branch b2) arrives first; the earlier one (2, branch b1,
    // with a cédula) merges into it: the cédula fills the blank, the branch is the earlier one's.
    let b1 = json!(Uuid::from_u128(0xb1));
    let b2 = json!(Uuid::from_u128(0xb2));
    let later = new_customer(1, &[("phone", json!("+584121111111")), ("branch_id", b2)], 2_000);
    let earlier = new_customer(
        2,
        &[("phone", json!("+584121111111")), ("identification", json!("V-12345678")), ("branch_id", b1)],
        1_000,
    );
    let p = run(&[later, earlier], Snapshot::default());
    let one = p.customers.iter().find(|c| c.id == Uuid::from_u128(1)).unwrap();
    assert_eq!(one.identification.as_deref(), Some("V-12345678"));
    assert_eq!(one.branch_id, Some(Uuid::from_u128(0xb1)));
}

#[test]
fn invalid_or_unnormalised_records_are_rejected_with_field_errors() {
    let bad = new_customer(1, &[("phone", json!("0414-123.45.67")), ("email", json!("nope"))], 1);
    let p = run(&[bad], Snapshot::default());
    let ChangeOutcome::Rejected { errors } = &p.results[0].outcome else { panic!("{:?}", p.results) };
    assert!(errors.code_for("phone").is_some() && errors.code_for("email").is_some());
    assert!(p.customers.is_empty());
}

#[test]
fn a_blank_key_is_refused_and_never_matches_anyone() {
    // Two different people whose terminal sent an empty phone: "" is not a phone, so neither
    // may own it, and the second must not be merged into the first through it.
    let first = new_customer(1, &[("phone", json!("")), ("email", json!("ana@x.com"))], 1);
    let second = new_customer(2, &[("phone", json!("")), ("email", json!("rosa@x.com"))], 2);
    let p = run(&[first, second], Snapshot::default());
    for result in &p.results {
        let ChangeOutcome::Rejected { errors } = &result.outcome else { panic!("{:?}", p.results) };
        assert_eq!(errors.code_for("phone"), Some(ErrorCode::NotNormalized));
    }
    assert!(p.customers.is_empty() && p.merges.is_empty());
}

#[test]
fn edits_follow_last_writer_wins_and_cannot_steal_a_key() {
    let setup = run(
        &[
            new_customer(1, &[("phone", json!("+584121111111")), ("city", json!("Coro"))], 10),
            new_customer(2, &[("phone", json!("+584122222222"))], 10),
        ],
        Snapshot::default(),
    );
    let edit = |wall, fields: &[(&str, serde_json::Value)]| Change {
        change_id: Uuid::now_v7(),
        device_id: DEVICE,
        body: ChangeBody::Customer {
            id: Uuid::from_u128(1),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), Stamped { value: v.clone(), clock: stamp(wall) }))
                .collect(),
        },
    };
    let p = run(
        &[
            edit(5, &[("city", json!("Old"))]),
            edit(20, &[("notes", json!("VIP"))]),
            edit(30, &[("phone", json!("+584122222222"))]),
        ],
        snapshot_of(&setup),
    );
    let c = p.customers.iter().find(|c| c.id == Uuid::from_u128(1)).unwrap();
    assert_eq!(c.city.as_deref(), Some("Coro"), "an older write loses");
    assert_eq!(c.notes.as_deref(), Some("VIP"));
    assert_eq!(c.phone.as_deref(), Some("+584121111111"), "the phone stays with its owner");
    // The cross-key rule, as on the create path: the rest applies, a review item names both.
    assert_eq!(p.results[2].outcome, ChangeOutcome::Applied);
    assert_eq!(p.reviews.len(), 1, "{:?}", p.reviews);
    assert_eq!(p.reviews[0].key, KeyKind::Phone);
    assert!(p.rekeyed.is_empty(), "the key change was refused");

    // A key that changes is written with the key columns; an edit of other fields is not.
    let p = run(
        &[edit(40, &[("phone", json!("+584123333333"))]), edit(40, &[("email", json!("ana@x.com"))])],
        snapshot_of(&setup),
    );
    assert!(p.results.iter().all(|r| r.outcome == ChangeOutcome::Applied), "{:?}", p.results);
    assert_eq!(p.rekeyed, HashSet::from([Uuid::from_u128(1)]));
    let p = run(&[edit(40, &[("notes", json!("VIP"))])], snapshot_of(&setup));
    assert_eq!((p.customers.len(), p.rekeyed.len()), (1, 0));
}

#[test]
fn a_sale_for_a_merged_record_lands_on_the_survivor_and_a_change_from_another_device_is_refused() {
    let a = new_customer(1, &[("phone", json!("+584141234567"))], 1);
    let b = new_customer(2, &[("phone", json!("+584141234567"))], 2);
    let sale = Sale {
        id: Uuid::from_u128(99),
        organization_id: Uuid::nil(),
        customer_id: Uuid::from_u128(2),
        branch_id: None,
        terminal_id: Some(DEVICE),
        lines: vec![],
        total_minor: 1250,
        currency: "USD".into(),
        payment_method: pos_core::PaymentMethod::Cash,
        sold_at: now(),
    };
    let sale_change = Change { change_id: Uuid::now_v7(), device_id: DEVICE, body: ChangeBody::Sale { sale } };
    let mut spoofed = new_customer(3, &[("email", json!("x@y.com"))], 3);
    spoofed.device_id = Uuid::from_u128(0xbad);
    let p = run(&[a, b, sale_change, spoofed], Snapshot::default());
    assert_eq!(p.sales[0].customer_id, Uuid::from_u128(1));
    assert_eq!(p.sales[0].organization_id, ORG, "the organisation comes from the credential, not the payload");
    assert!(matches!(p.results[3].outcome, ChangeOutcome::Rejected { .. }));
}

#[test]
fn a_clock_far_in_the_future_is_restamped() {
    let future = now().timestamp_millis() as u64 + 365 * 86_400_000;
    let p = run(&[new_customer(1, &[("phone", json!("+584141234567"))], future)], Snapshot::default());
    let c = &p.customers[0];
    assert!(c.clocks.values().all(|h| h.wall_ms < future), "{:?}", c.clocks);
}
