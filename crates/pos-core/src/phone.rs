//! Phone numbers through the libphonenumber port: any written form to E.164, Venezuela as the
//! default region (`0414-123.45.67` → `+584141234567`), foreign numbers in international form.

use crate::error::ErrorCode;
use phonenumber::{country, Mode};

/// Venezuelan mobile prefixes, all inside libphonenumber's mobile pattern `4(?:1[24-8]|2[246])`.
const VE_MOBILE: [&str; 6] = ["412", "414", "416", "422", "424", "426"];

/// Parses and validates a phone number, returning its E.164 form.
pub fn normalize_phone(raw: &str) -> Result<String, ErrorCode> {
    venezuelan_mobile(raw).map_or_else(|| via_libphonenumber(raw), Ok)
}

/// Fast path for the number typed most at a Venezuelan counter, a mobile in national or
/// international form; agrees with libphonenumber wherever the port parses the text
/// (property-tested below).
fn venezuelan_mobile(raw: &str) -> Option<String> {
    let t = raw.trim();
    if !t.chars().all(|c| c.is_ascii_digit() || " -.()".contains(c) || c == '+') || t.rfind('+').is_some_and(|i| i != 0)
    {
        return None;
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    let national = if t.starts_with('+') {
        digits.strip_prefix("58")?
    } else {
        digits.strip_prefix("0058").or_else(|| digits.strip_prefix('0')).unwrap_or(&digits)
    };
    (national.len() == 10 && VE_MOBILE.contains(&&national[..3])).then(|| format!("+58{national}"))
}

fn via_libphonenumber(raw: &str) -> Result<String, ErrorCode> {
    let trimmed = raw.trim();
    if trimmed.is_empty() || trimmed.chars().filter(char::is_ascii_digit).count() < 7 {
        return Err(ErrorCode::PhoneInvalid);
    }
    let number = phonenumber::parse(Some(country::Id::VE), trimmed).map_err(|_| ErrorCode::PhoneInvalid)?;
    if !phonenumber::is_valid(&number) {
        return Err(ErrorCode::PhoneInvalid);
    }
    Ok(number.format().mode(Mode::E164).to_string())
}

/// The E.164 prefix a partly typed number stands for, for incremental lookup at the counter:
/// `0414-12` → `+5841412`, `+1 305` → `+1305`. `None` when the text is not number-like.
pub fn phone_prefix(raw: &str) -> Option<String> {
    let t = raw.trim();
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit() || " +-.()".contains(c)) {
        return None;
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 4 {
        return None;
    }
    if t.starts_with('+') {
        Some(format!("+{digits}"))
    } else if let Some(rest) = digits.strip_prefix("00") {
        Some(format!("+{rest}"))
    } else if let Some(rest) = digits.strip_prefix('0') {
        Some(format!("+58{rest}"))
    } else if digits.starts_with("58") {
        Some(format!("+{digits}"))
    } else {
        Some(format!("+58{digits}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn venezuelan_forms_normalise_to_e164() {
        for form in
            ["0414-123.45.67", "(0414) 1234567", "+58 414 123 4567", "04141234567", "414 1234567", "0058 414 1234567"]
        {
            assert_eq!(normalize_phone(form).as_deref(), Ok("+584141234567"), "{form}");
        }
    }

    #[test]
    fn every_current_mobile_prefix_is_valid() {
        for prefix in ["0412", "0414", "0416", "0424", "0426", "0422"] {
            let n = format!("{prefix}-555.12.34");
            assert!(normalize_phone(&n).is_ok(), "{n} should be valid");
        }
        // Caracas landline.
        assert_eq!(normalize_phone("0212-555.12.34").as_deref(), Ok("+582125551234"));
    }

    #[test]
    fn foreign_numbers_in_international_form() {
        assert_eq!(normalize_phone("+1 (305) 555-0123").as_deref(), Ok("+13055550123"));
        assert_eq!(normalize_phone("+34 612 34 56 78").as_deref(), Ok("+34612345678"));
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "abc", "123", "0414-12", "+58 999 1234567", "0414 123 45 67 89 00"] {
            assert!(normalize_phone(bad).is_err(), "{bad} should be rejected");
        }
    }

    proptest::proptest! {
        #[test]
        fn fast_path_agrees_with_libphonenumber(
            lead in proptest::sample::select(vec!["0", "+58 ", "+58", "0058 ", "", "58", "+1 ", "00"]),
            prefix in proptest::sample::select(vec!["412", "414", "416", "422", "424", "426", "212", "415", "418"]),
            rest in "[0-9]{6,8}",
            sep in proptest::sample::select(vec!["", " ", "-", ".", ") "]),
        ) {
            let raw = format!("{lead}{prefix}{sep}{rest}");
            if let Some(fast) = venezuelan_mobile(&raw) {
                // What the fast path returns, libphonenumber holds valid as it stands…
                proptest::prop_assert_eq!(via_libphonenumber(&fast), Ok(fast.clone()));
                // …and wherever the port can parse the typed text, both agree. (The port refuses
                // some forms it should read, such as `+58412-1234567`; the fast path reads them.)
                if let Ok(slow) = via_libphonenumber(&raw) {
                    proptest::prop_assert_eq!(fast, slow, "{}", raw);
                }
            }
        }
    }

    #[test]
    fn prefixes_for_incremental_lookup() {
        assert_eq!(phone_prefix("0414-12").as_deref(), Some("+5841412"));
        assert_eq!(phone_prefix("+1 305").as_deref(), Some("+1305"));
        assert_eq!(phone_prefix("58414").as_deref(), Some("+58414"));
        assert_eq!(phone_prefix("041"), None);
        assert_eq!(phone_prefix("perez"), None);
    }
}
