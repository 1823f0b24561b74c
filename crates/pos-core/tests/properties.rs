//! Property tests of the rules every replica relies on: normalisation is idempotent, the field
//! join is a semilattice (commutative, associative, idempotent), the dedupe merge of one
//! person's captures keeps the same values in any order (I4), a pulled row rebased over a
//! terminal's version leaves only its unacknowledged fields to the join (I3), and the dedupe
//! decision never prefers a lower-priority key to a higher one.

use pos_core::hlc::Hlc;
use pos_core::keys::{normalize_email, normalize_identification, normalize_passport};
use pos_core::merge::{decide, join, merge_into, rebase, FieldMap, KeyHits, MatchDecision, Stamped};
use pos_core::phone::normalize_phone;
use pos_core::text::fold;
use pos_core::KeyKind;
use proptest::prelude::*;
use serde_json::json;
use uuid::Uuid;

fn idempotent(f: fn(&str) -> Result<String, pos_core::ErrorCode>, raw: &str) -> Result<(), TestCaseError> {
    if let Ok(once) = f(raw) {
        prop_assert_eq!(f(&once), Ok(once.clone()), "normalising {:?} twice changed it", raw);
    }
    Ok(())
}

fn stamped() -> impl Strategy<Value = Stamped> {
    (
        0u64..50,
        0u32..3,
        0u64..3,
        prop_oneof![Just(json!(null)), "[a-c]{0,2}".prop_map(|s| json!(s)), any::<bool>().prop_map(|b| json!(b))],
    )
        .prop_map(|(wall_ms, counter, node, value)| Stamped { value, clock: Hlc { wall_ms, counter, node } })
}

fn field_map() -> impl Strategy<Value = FieldMap> {
    prop::collection::btree_map(
        prop::sample::select(vec!["city", "notes", "email", "is_active"]).prop_map(str::to_owned),
        stamped(),
        0..4,
    )
}

fn hits() -> impl Strategy<Value = KeyHits> {
    let id = prop::option::of((1u128..4).prop_map(Uuid::from_u128));
    (id.clone(), id.clone(), id.clone(), id).prop_map(|(phone, email, passport, identification)| KeyHits {
        phone,
        email,
        passport,
        identification,
    })
}

/// One capture of a person: each field blank or one of the person's values in some written
/// form, every field stamped with the capture's clock (as a terminal stamps a capture). Keys
/// are one value per person, as normalisation leaves them.
fn capture(node: u64) -> impl Strategy<Value = FieldMap> {
    let name = prop::option::of(prop::sample::select(vec![
        "José Pérez",
        "jose perez",
        "JOSE PEREZ",
        "José Perez",
        "Jose Pérez",
    ]));
    let city = prop::option::of(prop::sample::select(vec!["Caracas", "caracas", "Valencia", "Maracay"]));
    let phone = prop::option::of(Just("+584141234567"));
    let email = prop::option::of(Just("jose@correo.com"));
    let branch = prop::option::of(prop::sample::select(vec!["b1", "b2", "b3"]));
    let activity = prop::option::of(prop::sample::select(vec![
        "2026-01-02T10:00:00Z",
        "2026-01-02T10:00:00.5Z",
        "2026-03-01T08:00:00.250Z",
    ]));
    (0u64..40, name, city, phone, email, branch, activity).prop_map(
        move |(wall_ms, name, city, phone, email, branch, activity)| {
            let clock = Hlc { wall_ms, counter: 0, node };
            let st = |v: Option<&str>| Stamped { value: v.map_or(json!(null), |v| json!(v)), clock };
            [
                ("first_name", st(name)),
                ("city", st(city)),
                ("phone", st(phone)),
                ("email", st(email)),
                ("branch_id", st(branch)),
                ("last_activity", st(activity)),
                ("is_active", Stamped { value: json!(true), clock }),
            ]
            .into_iter()
            .map(|(f, s)| (f.to_owned(), s))
            .collect()
        },
    )
}

fn captures() -> impl Strategy<Value = Vec<FieldMap>> {
    (2usize..6).prop_flat_map(|n| (0..n as u64).map(capture).collect::<Vec<_>>())
}

/// The values the server keeps after merging `captures` in this order, the first being the
/// record the others merge into.
fn merged_values(captures: &[FieldMap]) -> std::collections::BTreeMap<String, serde_json::Value> {
    let first = captures[0].clone();
    let merged = captures[1..].iter().fold(first, |target, incoming| merge_into(&target, incoming, &[]));
    merged.into_iter().map(|(f, s)| (f, s.value)).collect()
}

proptest! {
    #[test]
    fn phone_normalisation_is_idempotent(raw in "(\\+58|0|\\+1 )?[0-9 .()-]{6,16}") {
        idempotent(normalize_phone, &raw)?;
    }

    #[test]
    fn venezuelan_mobiles_in_any_form_normalise_alike(prefix in prop::sample::select(vec!["412", "414", "416", "422", "424", "426"]), rest in "[0-9]{7}", sep in prop::sample::select(vec!["", " ", "-", "."])) {
        let national = format!("0{prefix}{sep}{}{sep}{}", &rest[..3], &rest[3..]);
        let international = format!("+58 {prefix} {rest}");
        prop_assert_eq!(normalize_phone(&national), normalize_phone(&international));
        prop_assert!(normalize_phone(&national).is_ok());
    }

    #[test]
    fn email_normalisation_is_idempotent(raw in "[ ]?[A-Za-z0-9._%+-]{1,12}@[A-Za-z0-9-]{1,10}\\.[A-Za-z]{2,4}[ ]?") {
        idempotent(normalize_email, &raw)?;
    }

    #[test]
    fn passport_normalisation_is_idempotent(raw in "[A-Za-z0-9 -]{0,24}") {
        idempotent(normalize_passport, &raw)?;
    }

    #[test]
    fn identification_normalisation_is_idempotent(raw in "[VEJPGvejpg]?[ .-]?[0-9]{1,3}[.]?[0-9]{3}[.]?[0-9]{3}(-[0-9])?") {
        idempotent(normalize_identification, &raw)?;
    }

    #[test]
    fn folding_is_idempotent(raw in "\\PC{0,20}") {
        prop_assert_eq!(fold(&fold(&raw)), fold(&raw));
    }

    #[test]
    fn join_is_commutative(a in field_map(), b in field_map()) {
        prop_assert_eq!(join(&a, &b), join(&b, &a));
    }

    #[test]
    fn join_is_associative(a in field_map(), b in field_map(), c in field_map()) {
        prop_assert_eq!(join(&join(&a, &b), &c), join(&a, &join(&b, &c)));
    }

    #[test]
    fn join_is_idempotent(a in field_map(), b in field_map()) {
        prop_assert_eq!(join(&a, &a), a.clone());
        let ab = join(&a, &b);
        prop_assert_eq!(join(&ab, &b), ab);
    }

    #[test]
    fn decision_never_prefers_a_lower_priority_key(h in hits()) {
        match decide(&h) {
            MatchDecision::Create => {
                for k in KeyKind::PRIORITY {
                    prop_assert!(h.get(k).is_none());
                }
            }
            MatchDecision::Merge { target, matched_by, conflicts } => {
                prop_assert_eq!(h.get(matched_by), Some(target));
                for k in KeyKind::PRIORITY.into_iter().filter(|k| *k < matched_by) {
                    prop_assert!(h.get(k).is_none(), "{:?} hit but {:?} decided", k, matched_by);
                }
                for c in &conflicts {
                    prop_assert!(c.key > matched_by);
                    prop_assert_ne!(c.other, target);
                    prop_assert_eq!(h.get(c.key), Some(c.other));
                }
                // Every other customer hit gets exactly one review.
                let others: std::collections::BTreeSet<_> = KeyKind::PRIORITY.into_iter().filter_map(|k| h.get(k)).filter(|id| *id != target).collect();
                prop_assert_eq!(others.len(), conflicts.len());
            }
        }
    }

    #[test]
    fn one_persons_captures_merge_to_the_same_values_in_any_order(records in captures(), seed in any::<u64>()) {
        let mut shuffled = records.clone();
        // A Fisher-Yates shuffle driven by the seed: any arrival order of the same captures.
        let mut state = seed | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(merged_values(&records), merged_values(&shuffled));
    }

    #[test]
    fn a_merge_never_blanks_a_value_nor_rewrites_a_key(target in capture(1), incoming in capture(2)) {
        let merged = merge_into(&target, &incoming, &[]);
        for (field, kept) in &merged {
            let before = &target[field].value;
            if !before.is_null() {
                prop_assert!(!kept.value.is_null(), "{} was blanked", field);
            }
            if (field == "phone" || field == "email") && !before.is_null() {
                prop_assert_eq!(&kept.value, before, "key {} rewritten", field);
            }
        }
    }

    #[test]
    fn a_rebased_row_is_the_servers_but_for_unacknowledged_fields(remote in field_map(), local in field_map(), pending in prop::collection::btree_set(prop::sample::select(vec!["city", "notes", "email", "is_active"]), 0..4)) {
        let rebased = rebase(&remote, &local, |f| pending.contains(f));
        for (field, value) in &rebased {
            if !pending.contains(field.as_str()) {
                prop_assert_eq!(Some(value), remote.get(field), "{} not the server's", field);
            }
        }
        // Once the pending change reaches the server (an edit, joined there) and is
        // acknowledged, the next pulled row makes the terminal equal to the server.
        let mine: FieldMap = local.iter().filter(|(f, _)| pending.contains(f.as_str())).map(|(f, s)| (f.clone(), s.clone())).collect();
        let server_after = join(&remote, &mine);
        prop_assert_eq!(&rebased, &server_after);
        prop_assert_eq!(rebase(&server_after, &rebased, |_| false), server_after);
    }
}
