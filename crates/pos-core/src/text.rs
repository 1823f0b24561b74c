//! Text folding for accent- and case-insensitive name search ("perez" finds "Pérez").

use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// Lower-cases and strips diacritics: `"José Pérez"` → `"jose perez"`. Whitespace runs become
/// one space and the ends are trimmed.
///
/// Characters are decomposed one at a time (ASCII needs none): combining marks are dropped, so
/// the canonical reordering a whole-string NFD would do cannot change the result, and this is
/// several times faster — the server folds three names on every customer row it writes.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    let mut push = |c: char| {
        if c.is_whitespace() {
            pending_space = !out.is_empty();
            return;
        }
        if pending_space {
            out.push(' ');
            pending_space = false;
        }
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase());
        }
    };
    for c in s.chars() {
        if c.is_ascii() {
            push(c);
        } else {
            decompose_canonical(c, |d| {
                if !is_combining_mark(d) {
                    push(d);
                }
            });
        }
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
        assert_eq!(fold("ΟΔΥΣΣΕΥΣ 한국"), fold_by_nfd("ΟΔΥΣΣΕΥΣ 한국"));
        assert_eq!(fold("Müller"), "muller");
    }

    /// The whole-string NFD reading `fold` replaced, as it was.
    fn fold_by_nfd(s: &str) -> String {
        use unicode_normalization::UnicodeNormalization;
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

    proptest::proptest! {
        #[test]
        fn folds_like_whole_string_nfd(raw in "\\PC{0,24}") {
            proptest::prop_assert_eq!(fold(&raw), fold_by_nfd(&raw));
        }
    }

    #[test]
    fn clean_drops_blank() {
        assert_eq!(clean(Some("   ")), None);
        assert_eq!(clean(Some(" a  b ")), Some("a b".into()));
        assert_eq!(clean(None), None);
    }
}
