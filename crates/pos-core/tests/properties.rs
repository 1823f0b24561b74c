//! Property tests of the rules every replica relies on: normalisation is idempotent, the field
//! join is a semilattice (commutative, associative, idempotent), and the dedupe decision never
//! prefers a lower-priority key to a higher one.

use pos_core::hlc::Hlc;
use pos_core::keys::{normalize_email, normalize_identification, normalize_passport};
use pos_core::merge::{decide, join, FieldMap, KeyHits, MatchDecision, Stamped};
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
}
