//! How typed text reads as lookup candidates: the whole identifiers it could be, the identifier
//! prefixes it could start, and the folded name words it holds. Pure, so the terminal's lookup
//! and the server's REST lookup read a query the same way.

use crate::identification::identification_prefixes;
use crate::keys::{normalize_email, normalize_identification, normalize_passport, KeyKind};
use crate::phone::{normalize_phone, phone_prefix};
use crate::text::fold;
use serde::{Deserialize, Serialize};

/// How a lookup result was found, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", content = "key", rename_all = "snake_case")]
pub enum MatchedBy {
    Exact(KeyKind),
    Prefix(KeyKind),
    Name,
}

/// Sort orders of the customer list, named as in the REST API (`-created_at` is newest first).
/// Each store writes its own SQL for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Ordering {
    #[serde(rename = "created_at")]
    CreatedAt,
    #[default]
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
    #[serde(rename = "surname")]
    Surname,
    #[serde(rename = "first_name")]
    FirstName,
    #[serde(rename = "-updated_at")]
    UpdatedAtDesc,
    #[serde(rename = "-last_activity")]
    LastActivityDesc,
}

/// The cédulas a typed identification could be: its normal form, and for a bare number (no
/// letter typed) the E cédula too, since a foreign resident's is as likely as the V one
/// normalisation reads. The error is the identification's own.
pub fn identification_candidates(q: &str) -> Result<Vec<String>, crate::ErrorCode> {
    let id = normalize_identification(q)?;
    let foreign = q.trim().starts_with(|c: char| c.is_ascii_digit()).then(|| id.replacen("V-", "E-", 1));
    Ok(std::iter::once(id).chain(foreign).collect())
}

/// The exact keys a typed text could be, in the order a lookup should try them.
pub fn exact_candidates(q: &str) -> Vec<(KeyKind, String)> {
    let mut out = Vec::new();
    if q.contains('@') {
        out.extend(normalize_email(q).ok().map(|e| (KeyKind::Email, e)));
        return out;
    }
    // Typed phone numbers have no letters; skipping the parser for cédulas and passports saves
    // most of an exact lookup's time.
    if !q.chars().any(char::is_alphabetic) {
        out.extend(normalize_phone(q).ok().map(|p| (KeyKind::Phone, p)));
    }
    if let Ok(ids) = identification_candidates(q) {
        out.extend(ids.into_iter().map(|id| (KeyKind::Identification, id)));
    }
    out.extend(normalize_passport(q).ok().map(|p| (KeyKind::Passport, p)));
    out
}

/// Identifier prefixes (in stored, normalised form) a partly typed text could start.
pub fn prefix_candidates(q: &str) -> Vec<(KeyKind, String)> {
    let t = q.trim();
    let has_digit = t.chars().any(|c| c.is_ascii_digit());
    if t.contains('@') || (t.contains('.') && !has_digit && !t.contains(char::is_whitespace)) {
        return vec![(KeyKind::Email, t.to_lowercase())];
    }
    let mut out: Vec<(KeyKind, String)> = phone_prefix(t).map(|p| (KeyKind::Phone, p)).into_iter().collect();
    out.extend(identification_prefixes(t).into_iter().map(|p| (KeyKind::Identification, p)));
    let compact: String = t.chars().filter(|c| !matches!(c, ' ' | '-')).flat_map(char::to_uppercase).collect();
    if compact.len() >= 3 && has_digit && compact.chars().all(|c| c.is_ascii_alphanumeric()) {
        out.push((KeyKind::Passport, compact));
    }
    out
}

/// The folded words of a name query: `"Pérez  JU"` → `["perez", "ju"]`. A name matches when
/// every word starts one of its folded words.
pub fn name_words(q: &str) -> Vec<String> {
    fold(q).split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_owned).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_text_becomes_candidate_keys() {
        assert_eq!(exact_candidates(" Juan@Example.com "), vec![(KeyKind::Email, "juan@example.com".into())]);
        let cedula = exact_candidates("v12.345.678");
        assert!(cedula.contains(&(KeyKind::Identification, "V-12345678".into())));
        let phone = exact_candidates("0414-123.45.67");
        assert_eq!(phone[0], (KeyKind::Phone, "+584141234567".into()));
        assert!(prefix_candidates("0414-12").contains(&(KeyKind::Phone, "+5841412".into())));
        assert!(prefix_candidates("1234").contains(&(KeyKind::Identification, "E-1234".into())));
        assert_eq!(name_words("Pérez  JU"), vec!["perez".to_owned(), "ju".to_owned()]);
        assert!(name_words(" - ").is_empty());
    }

    #[test]
    fn orderings_and_matches_keep_their_api_names() {
        let names: Vec<serde_json::Value> = [
            Ordering::CreatedAt,
            Ordering::CreatedAtDesc,
            Ordering::Surname,
            Ordering::FirstName,
            Ordering::UpdatedAtDesc,
            Ordering::LastActivityDesc,
        ]
        .iter()
        .map(|o| serde_json::to_value(o).unwrap())
        .collect();
        assert_eq!(
            names,
            ["created_at", "-created_at", "surname", "first_name", "-updated_at", "-last_activity"]
                .map(serde_json::Value::from)
        );
        assert_eq!(Ordering::default(), Ordering::CreatedAtDesc);
        assert_eq!(
            serde_json::to_value(MatchedBy::Exact(KeyKind::Phone)).unwrap(),
            serde_json::json!({"kind": "exact", "key": "phone"})
        );
        assert_eq!(serde_json::to_value(MatchedBy::Name).unwrap(), serde_json::json!({"kind": "name"}));
        assert!(MatchedBy::Exact(KeyKind::Email) < MatchedBy::Prefix(KeyKind::Phone), "exact ranks first");
    }

    /// The terminal's lookup reads text through these functions; its cases stay pinned here.
    #[test]
    fn the_terminals_readings_hold() {
        let bare = exact_candidates("12345678");
        assert!(bare.contains(&(KeyKind::Identification, "E-12345678".into())), "a bare number may be an E cédula");
        assert!(bare.contains(&(KeyKind::Identification, "V-12345678".into())));
        assert!(bare.contains(&(KeyKind::Passport, "12345678".into())), "or a passport");
        assert!(prefix_candidates("V-1234").contains(&(KeyKind::Identification, "V-1234".into())));
        assert!(prefix_candidates("juan perez").is_empty(), "a name is no identifier prefix");
        assert_eq!(prefix_candidates("ana.gil"), vec![(KeyKind::Email, "ana.gil".into())]);
    }
}
