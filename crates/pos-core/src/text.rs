//! Text folding for accent- and case-insensitive name search ("perez" finds "Pérez").

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Lower-cases and strips diacritics: `"José Pérez"` → `"jose perez"`. Whitespace runs become
/// one space and the ends are trimmed.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfd().filter(|c| !is_combining_mark(*c)) {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            continue;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// Trims a free-text field; an empty result becomes `None`.
pub fn clean(s: Option<&str>) -> Option<String> {
    s.map(str::trim).filter(|s| !s.is_empty()).map(collapse_spaces)
}

/// Collapses internal whitespace runs to one space.
pub fn collapse_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_accents_case_and_spaces() {
        assert_eq!(fold("  José   PÉREZ Ñáñez "), "jose perez nanez");
        assert_eq!(fold("Müller"), "muller");
    }

    #[test]
    fn clean_drops_blank() {
        assert_eq!(clean(Some("   ")), None);
        assert_eq!(clean(Some(" a  b ")), Some("a b".into()));
        assert_eq!(clean(None), None);
    }
}
