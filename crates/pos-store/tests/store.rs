//! The terminal store against a real SQLite file: validation, the outbox written with every
//! change, lookup in any written form, find-or-create under the dedupe rule, sales and stats.

use chrono::Utc;
use pos_core::{CustomerInput, ErrorCode, KeyKind, PaymentMethod, Preferences, SaleInput, SaleLine, Source};
use pos_store::{MatchedBy, Ordering, SaleCustomer, SearchQuery, Store, StoreError};
use tempfile::TempDir;

fn open() -> (TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("terminal.db")).unwrap();
    (dir, store)
}

fn input(first: &str, surname: &str, phone: Option<&str>, email: Option<&str>, id: Option<&str>) -> CustomerInput {
    CustomerInput {
        first_name: Some(first.into()),
        surname: Some(surname.into()),
        phone: phone.map(Into::into),
        email: email.map(Into::into),
        identification: id.map(Into::into),
        ..Default::default()
    }
}

fn juan() -> CustomerInput {
    input("Juan", "Pérez", Some("0414-123.45.67"), Some("juan@example.com"), Some("V-12.345.678"))
}

fn cash(total: i64) -> SaleInput {
    SaleInput { lines: vec![], total_minor: Some(total), currency: "USD".into(), payment_method: PaymentMethod::Cash }
}

#[test]
fn reopening_keeps_identity_data_and_queue() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    let (device, id) = {
        let mut s = Store::open(&path).unwrap();
        (s.identity().device_id, s.create_customer(&juan()).unwrap().id)
    };
    let s = Store::open(&path).unwrap();
    assert_eq!(s.identity().device_id, device);
    assert!(s.get_customer(id).unwrap().is_some());
    assert_eq!(s.pending_count().unwrap(), 1);
}

#[test]
fn create_writes_the_customer_and_its_outbox_entry_together() {
    let (_d, mut s) = open();
    let c = s.create_customer(&juan()).unwrap();
    assert_eq!(c.phone.as_deref(), Some("+584141234567"));
    assert_eq!(c.identification.as_deref(), Some("V-12345678"));
    let pending = s.pending_changes(10).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].change.body.entity_id(), c.id);
    assert_eq!(pending[0].change.device_id, s.identity().device_id);
}

#[test]
fn invalid_input_writes_nothing_and_names_every_field() {
    let (_d, mut s) = open();
    let err = s.create_customer(&input("", "Pérez", Some("123"), None, Some("X-9"))).unwrap_err();
    let StoreError::Invalid(errors) = err else { panic!("expected validation error, got {err:?}") };
    assert_eq!(errors.code_for("first_name"), Some(ErrorCode::Required));
    assert_eq!(errors.code_for("phone"), Some(ErrorCode::PhoneInvalid));
    assert_eq!(errors.code_for("identification"), Some(ErrorCode::IdentificationInvalid));
    assert_eq!(s.pending_count().unwrap(), 0);
    assert_eq!(s.stats(Utc::now().date_naive(), 1).unwrap().total, 0);
}

#[test]
fn strict_create_refuses_a_taken_identifier_naming_the_owner() {
    let (_d, mut s) = open();
    let first = s.create_customer(&juan()).unwrap();
    let again = input("Otro", "Cliente", Some("+58 414 1234567"), Some("otro@example.com"), None);
    match s.create_customer(&again).unwrap_err() {
        StoreError::Duplicate(d) => {
            assert_eq!(d.len(), 1);
            assert_eq!((d[0].key, d[0].existing_id), (KeyKind::Phone, first.id));
        }
        e => panic!("expected duplicate, got {e:?}"),
    }
    assert_eq!(s.pending_count().unwrap(), 1);
}

#[test]
fn quick_lookup_finds_any_identifier_in_any_written_form() {
    let (_d, mut s) = open();
    let mut j = juan();
    j.passport_number = Some("px-111 222".into());
    let id = s.create_customer(&j).unwrap().id;
    s.create_customer(&input("Ana", "Rojas", Some("0424-765.43.21"), None, Some("E-81234567"))).unwrap();
    for (q, how) in [
        ("v12.345.678", MatchedBy::Exact(KeyKind::Identification)),
        ("12345678", MatchedBy::Exact(KeyKind::Identification)),
        ("(0414) 123 4567", MatchedBy::Exact(KeyKind::Phone)),
        ("+584141234567", MatchedBy::Exact(KeyKind::Phone)),
        (" JUAN@Example.com ", MatchedBy::Exact(KeyKind::Email)),
        ("PX111222", MatchedBy::Exact(KeyKind::Passport)),
        ("0414-123", MatchedBy::Prefix(KeyKind::Phone)),
        ("V-1234", MatchedBy::Prefix(KeyKind::Identification)),
        ("juan@ex", MatchedBy::Prefix(KeyKind::Email)),
        ("perez", MatchedBy::Name),
        ("PÉR", MatchedBy::Name),
        ("juan pe", MatchedBy::Name),
    ] {
        let hits = s.quick_lookup(q, 10).unwrap();
        assert_eq!(hits.first().map(|h| (h.customer.id, h.matched_by)), Some((id, how)), "query {q:?} gave {hits:?}");
    }
    assert!(s.quick_lookup("gonzalez", 10).unwrap().is_empty());
    assert!(s.quick_lookup("   ", 10).unwrap().is_empty());
}

#[test]
fn find_or_create_merges_the_same_person_typed_differently() {
    let (_d, mut s) = open();
    let first = s.find_or_create(&juan()).unwrap();
    assert!(first.created);
    let mut same = input("juan", "perez", Some("+58 (414) 123-4567"), None, None);
    same.city = Some("Maracay".into());
    let second = s.find_or_create(&same).unwrap();
    assert!(!second.created);
    assert_eq!(second.customer.id, first.customer.id);
    assert_eq!(second.matched_by, Some(KeyKind::Phone));
    assert_eq!(second.customer.first_name, "Juan", "same name in other case/accents keeps the stored spelling");
    assert_eq!(second.customer.city.as_deref(), Some("Maracay"), "blank field filled");
    assert_eq!(s.stats(Utc::now().date_naive(), 1).unwrap().total, 1);
    assert_eq!(s.pending_count().unwrap(), 2, "create + merge update queued");
}

#[test]
fn cross_key_match_merges_by_priority_and_reports_the_other_customer() {
    let (_d, mut s) = open();
    let by_phone = s.create_customer(&input("Ana", "Rojas", Some("0412-111.11.11"), None, None)).unwrap();
    let by_email = s.create_customer(&input("Ana", "Rojas", None, Some("ana@x.com"), None)).unwrap();
    let r = s.find_or_create(&input("Ana", "Rojas", Some("04121111111"), Some("ANA@x.com"), None)).unwrap();
    assert_eq!(r.customer.id, by_phone.id);
    assert_eq!(r.possible_duplicates.len(), 1);
    assert_eq!((r.possible_duplicates[0].key, r.possible_duplicates[0].other), (KeyKind::Email, by_email.id));
    assert_eq!(r.customer.email, None, "the email stays with the customer that owns it");
    assert_eq!(s.get_customer(by_email.id).unwrap().unwrap().email.as_deref(), Some("ana@x.com"));
}

#[test]
fn passport_dedupes_when_phone_and_email_are_absent() {
    let (_d, mut s) = open();
    let mut a = input("Li", "Wei", None, Some("li@x.com"), None);
    a.passport_number = Some("E1234567".into());
    let first = s.find_or_create(&a).unwrap();
    let mut b = input("Li", "Wei", Some("+86 139 1234 5678"), None, None);
    b.passport_number = Some("e-123 4567".into());
    let second = s.find_or_create(&b).unwrap();
    assert_eq!((second.customer.id, second.matched_by), (first.customer.id, Some(KeyKind::Passport)));
    assert_eq!(second.customer.phone.as_deref(), Some("+8613912345678"), "blank key filled from the incoming record");
}

#[test]
fn checkout_reactivates_an_inactive_customer_and_records_the_sale() {
    let (_d, mut s) = open();
    let c = s.create_customer(&juan()).unwrap();
    s.soft_delete(c.id).unwrap();
    assert!(!s.get_customer(c.id).unwrap().unwrap().is_active);
    let hits = s.quick_lookup("v12345678", 5).unwrap();
    assert!(!hits[0].customer.is_active, "lookup still finds inactive customers");
    let (sale, found) = s
        .checkout(
            &SaleCustomer::FindOrCreate(Box::new(input("Juan", "Pérez", Some("04141234567"), None, None))),
            &cash(1250),
        )
        .unwrap();
    let found = found.unwrap();
    assert!(found.reactivated && !found.created);
    assert_eq!(sale.customer_id, c.id);
    let after = s.get_customer(c.id).unwrap().unwrap();
    assert!(after.is_active);
    assert_eq!(after.last_activity, Some(sale.sold_at));
}

#[test]
fn a_bad_checkout_writes_neither_customer_nor_sale() {
    let (_d, mut s) = open();
    let bad_sale =
        SaleInput { lines: vec![], total_minor: Some(-5), currency: "usd".into(), payment_method: PaymentMethod::Card };
    let err = s
        .checkout(&SaleCustomer::FindOrCreate(Box::new(input("Eva", "Luna", Some("bad"), None, None))), &bad_sale)
        .unwrap_err();
    let StoreError::Invalid(e) = err else { panic!("{err:?}") };
    assert!(e.code_for("phone").is_some() && e.code_for("total_minor").is_some() && e.code_for("currency").is_some());
    assert_eq!(s.pending_count().unwrap(), 0);
    assert!(s.quick_lookup("eva", 5).unwrap().is_empty());
}

#[test]
fn purchase_history_and_summary_keep_currencies_apart() {
    let (_d, mut s) = open();
    let c = s.create_customer(&juan()).unwrap();
    let lines = vec![SaleLine { description: "Café".into(), quantity: 2.0, unit_price_minor: 350 }];
    s.record_sale(
        c.id,
        &SaleInput { lines, total_minor: None, currency: "USD".into(), payment_method: PaymentMethod::Zelle },
    )
    .unwrap();
    s.record_sale(c.id, &cash(300)).unwrap();
    s.record_sale(c.id, &SaleInput { currency: "VES".into(), ..cash(36_500) }).unwrap();
    let history = s.purchase_history(c.id, 1, 2).unwrap();
    assert_eq!((history.count, history.results.len()), (3, 2));
    assert_eq!(history.results[0].currency, "VES", "newest first");
    let summary = s.sales_summary(c.id).unwrap();
    assert_eq!(summary.purchase_count, 3);
    let usd = summary.by_currency.iter().find(|t| t.currency == "USD").unwrap();
    assert_eq!((usd.count, usd.total_minor, usd.average_minor), (2, 1000, 500));
    assert!(summary.first_purchase <= summary.last_purchase);
    assert!(matches!(s.record_sale(uuid::Uuid::now_v7(), &cash(1)), Err(StoreError::NotFound(_))));
}

#[test]
fn edits_queue_only_the_changed_fields_and_refuse_taken_keys() {
    let (_d, mut s) = open();
    let c = s.create_customer(&juan()).unwrap();
    let other = s.create_customer(&input("Ana", "Rojas", Some("0424-765.43.21"), None, None)).unwrap();
    let mut edit = juan();
    edit.city = Some("Valencia".into());
    let updated = s.update_customer(c.id, &edit).unwrap();
    assert_eq!(updated.city.as_deref(), Some("Valencia"));
    let last = s.pending_changes(10).unwrap().pop().unwrap();
    let pos_core::wire::ChangeBody::Customer { fields, .. } = last.change.body else { panic!() };
    assert_eq!(fields.keys().collect::<Vec<_>>(), vec!["city"]);
    edit.phone = Some("04247654321".into());
    assert!(matches!(s.update_customer(c.id, &edit), Err(StoreError::Duplicate(d)) if d[0].existing_id == other.id));
}

#[test]
fn bulk_activation_counts_only_real_changes() {
    let (_d, mut s) = open();
    let a = s.create_customer(&juan()).unwrap().id;
    let b = s.create_customer(&input("Ana", "Rojas", Some("0424-765.43.21"), None, None)).unwrap().id;
    assert_eq!(s.set_active(&[a, b], false).unwrap(), 2);
    assert_eq!(s.set_active(&[a, b], false).unwrap(), 0);
    assert_eq!(s.set_active(&[a], true).unwrap(), 1);
    let stats = s.stats(Utc::now().date_naive(), 7).unwrap();
    assert_eq!((stats.total, stats.active, stats.inactive), (2, 1, 1));
    assert_eq!(stats.new_per_day.len(), 7);
    assert_eq!(stats.new_per_day.last().unwrap().count, 2);
    assert_eq!(stats.by_source[0].key.as_deref(), Some("POS"));
}

#[test]
fn preferences_default_then_change_through_the_outbox() {
    let (_d, mut s) = open();
    let c = s.create_customer(&juan()).unwrap();
    assert_eq!(s.preferences(c.id).unwrap(), Preferences::default());
    let before = s.pending_count().unwrap();
    let mut p = Preferences::default();
    p.channels.remove(&pos_core::Channel::Sms);
    p.language = pos_core::Lang::En;
    s.set_preferences(c.id, &p).unwrap();
    assert_eq!(s.preferences(c.id).unwrap(), p);
    assert_eq!(s.pending_count().unwrap(), before + 1);
    s.set_preferences(c.id, &p).unwrap();
    assert_eq!(s.pending_count().unwrap(), before + 1, "unchanged preferences queue nothing");
}

#[test]
fn push_answers_acknowledge_reject_and_discard() {
    use pos_core::wire::{ChangeOutcome, ChangeResult};
    let (_d, mut s) = open();
    s.create_customer(&juan()).unwrap();
    s.create_customer(&input("Ana", "Rojas", Some("0424-765.43.21"), None, None)).unwrap();
    let pending = s.pending_changes(10).unwrap();
    assert!(pending[0].seq < pending[1].seq);
    let (first, second) = (pending[0].change.change_id, pending[1].change.change_id);
    let rejected = ChangeResult {
        change_id: first,
        outcome: ChangeOutcome::Rejected { errors: pos_core::ValidationErrors::one("phone", ErrorCode::Duplicate) },
    };
    assert_eq!(s.apply_push_results(&[rejected]).unwrap().rejected, 1);
    assert_eq!(
        s.pending_changes(10).unwrap()[0].change.change_id,
        second,
        "a rejected change no longer blocks the queue"
    );
    assert_eq!(s.rejected_changes().unwrap()[0].rejection.as_ref().unwrap()[0]["code"], "duplicate");
    let applied = ChangeResult { change_id: second, outcome: ChangeOutcome::Applied };
    assert_eq!(
        s.apply_push_results(&[applied.clone(), applied]).unwrap().acknowledged,
        1,
        "a repeated answer is harmless"
    );
    assert_eq!(s.pending_count().unwrap(), 0);
    assert!(!s.discard_rejected(second).unwrap());
    assert!(s.discard_rejected(first).unwrap());
    assert_eq!(s.rejected_count().unwrap(), 0);
}

#[test]
fn fixing_a_rejected_customer_change_resends_the_whole_record_and_drops_the_rejection() {
    use pos_core::wire::{ChangeBody, ChangeOutcome, ChangeResult};
    let (_d, mut s) = open();
    let c = s.create_customer(&juan()).unwrap();
    let created = s.pending_changes(10).unwrap()[0].change.change_id;
    let rejected = ChangeResult {
        change_id: created,
        outcome: ChangeOutcome::Rejected { errors: pos_core::ValidationErrors::one("email", ErrorCode::Duplicate) },
    };
    s.apply_push_results(&[rejected]).unwrap();
    assert_eq!((s.pending_count().unwrap(), s.rejected_count().unwrap()), (0, 1));

    // A pending change or an unknown id cannot be "fixed".
    assert!(matches!(s.fix_rejected_customer(uuid::Uuid::now_v7(), &juan()), Err(StoreError::NotFound(_))));
    let mut fixed = juan();
    fixed.email = Some("juan.perez@example.com".into());
    let saved = s.fix_rejected_customer(created, &fixed).unwrap();
    assert_eq!(saved.id, c.id);
    assert_eq!(saved.email.as_deref(), Some("juan.perez@example.com"));
    assert_eq!(s.rejected_count().unwrap(), 0, "the rejected entry is gone");
    let queued = s.pending_changes(10).unwrap();
    assert_eq!(queued.len(), 1);
    let ChangeBody::Customer { id, fields } = &queued[0].change.body else { panic!("a customer change") };
    assert_eq!(*id, c.id);
    for field in ["first_name", "surname", "phone", "email", "identification", "is_active"] {
        assert!(fields.contains_key(field), "the resent change carries {field}: {fields:?}");
    }

    // Invalid corrections are refused and change nothing.
    let bad = s.create_customer(&input("Ana", "Rojas", Some("0424-765.43.21"), None, None)).unwrap();
    let change = s.pending_changes(10).unwrap()[1].change.change_id;
    s.apply_push_results(&[ChangeResult {
        change_id: change,
        outcome: ChangeOutcome::Rejected { errors: pos_core::ValidationErrors::one("phone", ErrorCode::Duplicate) },
    }])
    .unwrap();
    let mut wrong = input("Ana", "Rojas", Some("12"), None, None);
    assert!(matches!(s.fix_rejected_customer(change, &wrong), Err(StoreError::Invalid(_))));
    assert_eq!(s.rejected_count().unwrap(), 1);
    wrong.phone = Some("0424-765.43.22".into());
    assert_eq!(s.fix_rejected_customer(change, &wrong).unwrap().id, bad.id);
}

#[test]
fn a_merged_answer_points_the_local_record_and_its_sales_at_the_survivor() {
    use pos_core::wire::{ChangeOutcome, ChangeResult};
    let (_d, mut s) = open();
    let survivor = s.create_customer(&juan()).unwrap();
    let local = s.create_customer(&input("Ana", "Rojas", Some("0424-765.43.21"), None, None)).unwrap();
    s.record_sale(local.id, &cash(700)).unwrap();
    let change = s.pending_changes(10).unwrap().into_iter().find(|e| e.change.body.entity_id() == local.id).unwrap();
    let merged =
        ChangeResult { change_id: change.change.change_id, outcome: ChangeOutcome::MergedInto { target: survivor.id } };
    assert_eq!(s.apply_push_results(&[merged]).unwrap().merged, 1);
    assert_eq!(s.get_customer(local.id).unwrap().unwrap().merged_into, Some(survivor.id));
    assert_eq!(s.sales_summary(survivor.id).unwrap().purchase_count, 1, "the sale moved to the survivor");
    assert!(s.quick_lookup("0424-765.43.21", 5).unwrap().is_empty(), "the merged-away record is no longer found");
}

#[test]
fn pulled_rows_join_with_unpushed_local_edits() {
    let (_d, mut s) = open();
    let c = s.create_customer(&juan()).unwrap();
    let mut edit = juan();
    edit.city = Some("Valencia".into());
    s.update_customer(c.id, &edit).unwrap();
    let local = s.get_customer(c.id).unwrap().unwrap().clocks["city"];
    // The server's copy: an older write of city, a newer write of notes (a minute ahead).
    let mut remote = c.clone();
    remote.city = Some("Mérida".into());
    remote.notes = Some("VIP".into());
    remote.clocks.insert("city".into(), pos_core::Hlc { wall_ms: local.wall_ms - 1, ..local });
    let remote_notes = pos_core::Hlc { wall_ms: local.wall_ms + 60_000, counter: 0, node: 42 };
    remote.clocks.insert("notes".into(), remote_notes);
    s.apply_remote_customers(&[remote]).unwrap();
    let after = s.get_customer(c.id).unwrap().unwrap();
    assert_eq!(after.city.as_deref(), Some("Valencia"), "the newer local write survives");
    assert_eq!(after.notes.as_deref(), Some("VIP"), "the newer remote write is taken");
    // A later local write orders after everything pulled, even though our wall clock is behind.
    s.update_customer(c.id, &CustomerInput { notes: Some("VIP+".into()), ..edit }).unwrap();
    let notes_clock = s.get_customer(c.id).unwrap().unwrap().clocks["notes"];
    assert!(notes_clock > remote_notes, "{notes_clock:?} must follow {remote_notes:?}");
}

#[test]
fn a_pulled_row_replaces_every_acknowledged_field_whatever_its_clock() {
    use pos_core::wire::{ChangeOutcome, ChangeResult};
    let (_d, mut s) = open();
    let ana = s.create_customer(&input("Ana", "Rojas", Some("0414-123.45.67"), None, None)).unwrap();
    let capture = s.pending_changes(10).unwrap()[0].change.change_id;
    s.apply_push_results(&[ChangeResult { change_id: capture, outcome: ChangeOutcome::Applied }]).unwrap();
    // The server merged into Ana an earlier capture from another terminal that carried her
    // cédula: the filled field keeps that capture's clock, older than this terminal's blank.
    let mut remote = s.get_customer(ana.id).unwrap().unwrap();
    let blank = remote.clocks["identification"];
    remote.identification = Some("V-12345678".into());
    remote.clocks.insert("identification".into(), pos_core::Hlc { wall_ms: blank.wall_ms - 300, counter: 0, node: 7 });
    s.apply_remote_customers(std::slice::from_ref(&remote)).unwrap();
    let after = s.get_customer(ana.id).unwrap().unwrap();
    assert_eq!(after.to_fields(), remote.to_fields(), "the terminal holds the server's row, clocks included");

    // A field of a change not yet acknowledged is joined instead, as the server will join it.
    let mut edit = input("Ana", "Rojas", Some("0414-123.45.67"), None, Some("V-12345678"));
    edit.city = Some("Coro".into());
    s.update_customer(ana.id, &edit).unwrap();
    let mut older = remote.clone();
    older.city = Some("Mérida".into());
    s.apply_remote_customers(&[older]).unwrap();
    assert_eq!(s.get_customer(ana.id).unwrap().unwrap().city.as_deref(), Some("Coro"));
}

#[test]
fn search_filters_orders_and_pages() {
    let (_d, mut s) = open();
    for (i, city) in ["Caracas", "Maracay", "caracas"].iter().enumerate() {
        let mut c = input(&format!("Cliente{i}"), "Pérez", Some(&format!("0414-000.00.0{i}")), None, None);
        c.city = Some(city.to_string());
        c.source = Some(if i == 1 { "Lead" } else { "POS" }.into());
        s.create_customer(&c).unwrap();
    }
    let page = s
        .search(&SearchQuery {
            city: Some("CARACAS".into()),
            page_size: 1,
            ordering: Ordering::FirstName,
            ..Default::default()
        })
        .unwrap();
    assert_eq!((page.count, page.results.len()), (2, 1));
    assert_eq!(page.results[0].first_name, "Cliente0");
    let leads = s.search(&SearchQuery { source: Some(Source::Lead), ..Default::default() }).unwrap();
    assert_eq!(leads.count, 1);
    let by_text = s
        .search(&SearchQuery {
            search: Some("perez".into()),
            is_active: Some(true),
            page_size: 50,
            ..Default::default()
        })
        .unwrap();
    assert_eq!(by_text.count, 3);
    let by_phone = s.search(&SearchQuery { search: Some("0414-000.00.01".into()), ..Default::default() }).unwrap();
    assert_eq!(by_phone.count, 1);
}

#[test]
fn search_counts_and_pages_every_match_of_a_broad_query() {
    let (_d, mut s) = open();
    let rows: Vec<_> = (0..450).map(|i| pos_demo::customer(3, i)).collect();
    s.apply_remote_customers(&rows).unwrap();
    let q = |search: &str, page: u32| SearchQuery {
        search: Some(search.into()),
        page,
        page_size: 200,
        ..Default::default()
    };
    let all = s.search(&q("0414", 1)).unwrap();
    let expected = rows.iter().filter(|c| c.phone.as_deref().unwrap().starts_with("+58414")).count() as u64;
    assert!(expected > 0);
    assert_eq!(all.count, expected, "every 0414 number, not just the first page of lookups");
    let by_city =
        s.search(&SearchQuery { city: Some("caracas".into()), page_size: 200, ..Default::default() }).unwrap();
    assert_eq!(by_city.count, rows.iter().filter(|c| c.city.as_deref() == Some("Caracas")).count() as u64);
    let second = s.search(&q("0414", 2)).unwrap();
    assert_eq!((second.count, second.results.len() as u64), (expected, expected.saturating_sub(200)));
}

#[test]
fn identifiers_typed_with_spaces_are_found_by_prefix() {
    let (_d, mut s) = open();
    let id = s.create_customer(&juan()).unwrap().id;
    for q in ["V 12 345", "v-12.34", "C.I. 12.345.6"] {
        let hits = s.quick_lookup(q, 5).unwrap();
        assert_eq!(hits.first().map(|h| h.customer.id), Some(id), "{q}");
    }
}

#[test]
fn a_sale_for_a_merged_away_customer_goes_to_the_survivor() {
    let (_d, mut s) = open();
    let survivor = s.create_customer(&juan()).unwrap();
    let mut loser = survivor.clone();
    loser.id = uuid::Uuid::now_v7();
    loser.phone = None;
    loser.email = None;
    loser.identification = None;
    loser.merged_into = Some(survivor.id);
    s.apply_remote_customers(&[loser.clone()]).unwrap();
    let sale = s.record_sale(loser.id, &cash(500)).unwrap();
    assert_eq!(sale.customer_id, survivor.id);
}

#[test]
fn a_bulk_load_sets_the_indexes_aside_and_builds_them_again_even_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("terminal.db");
    let rows: Vec<_> = (0..300).map(|i| pos_demo::customer(5, i)).collect();
    let (first, last) = (&rows[0], &rows[299]);
    {
        let mut s = Store::open(&path).unwrap();
        assert!(s.begin_bulk_load().unwrap(), "an empty store loads in bulk");
        s.apply_remote_customers(&rows[..150]).unwrap();
        assert_eq!(customer_indexes(&path), 0, "indexes and triggers are set aside while loading");
        // Without its indexes the store still answers, by scanning.
        let hits = s.quick_lookup(first.phone.as_deref().unwrap(), 5).unwrap();
        assert_eq!(hits[0].customer.id, first.id);
        s.finish_bulk_load().unwrap();
        assert_eq!(customer_indexes(&path), indexes_of_a_new_store());
        let by_name = s.quick_lookup(&first.surname, 50).unwrap();
        assert!(by_name.iter().any(|h| h.customer.id == first.id), "the name index was rebuilt");
        assert!(!s.begin_bulk_load().unwrap(), "a store holding customers never drops its indexes");
    }
    // A second store is cut off half-way through its bulk load (the process dies).
    let other = dir.path().join("other.db");
    {
        let mut s = Store::open(&other).unwrap();
        assert!(s.begin_bulk_load().unwrap());
        s.apply_remote_customers(&rows).unwrap();
    }
    let s = Store::open(&other).unwrap();
    assert_eq!(customer_indexes(&other), indexes_of_a_new_store());
    let by_name = s.quick_lookup(&last.surname, 300).unwrap();
    assert!(by_name.iter().any(|h| h.customer.id == last.id), "reopening finished the bulk load");
    let by_phone = s.quick_lookup(last.phone.as_deref().unwrap(), 5).unwrap();
    assert_eq!(by_phone[0].customer.id, last.id);
    assert_eq!(by_phone[0].matched_by, MatchedBy::Exact(KeyKind::Phone));
}

/// Named indexes and triggers on the customer table of the store at `path`.
fn customer_indexes(path: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE tbl_name = 'customers' AND type IN ('index', 'trigger') AND sql IS NOT NULL",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

fn indexes_of_a_new_store() -> i64 {
    let (d, _s) = open();
    let n = customer_indexes(&d.path().join("terminal.db"));
    assert!(n >= 8, "key, date and name-trigger definitions: {n}");
    n
}

#[test]
fn a_rejected_capture_is_told_apart_from_a_rejected_edit() {
    use pos_core::wire::{ChangeOutcome, ChangeResult};
    let (_d, mut s) = open();
    let c = s.create_customer(&juan()).unwrap();
    s.update_customer(c.id, &CustomerInput { city: Some("Maracay".into()), ..juan() }).unwrap();
    let pending = s.pending_changes(10).unwrap();
    let (capture, edit) = (pending[0].change.change_id, pending[1].change.change_id);
    let reject = |change_id| ChangeResult {
        change_id,
        outcome: ChangeOutcome::Rejected { errors: pos_core::ValidationErrors::one("city", ErrorCode::Required) },
    };
    assert_eq!(s.rejected_change_is_capture(capture).unwrap(), None, "not rejected yet");
    s.apply_push_results(&[reject(capture), reject(edit)]).unwrap();
    assert_eq!(s.rejected_change_is_capture(capture).unwrap(), Some(true));
    assert_eq!(s.rejected_change_is_capture(edit).unwrap(), Some(false));
}
