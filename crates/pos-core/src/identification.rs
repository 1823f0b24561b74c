//! Venezuelan identification documents: the cédula (`V-12345678`, `E-12345678`) and the RIF
//! (`J-12345678-9`, types V E J P G, with its modulus-11 check digit).
//!
//! People write these in many ways (`v12.345.678`, `V 12 345 678`, `12345678`, `j123456789`);
//! all of them normalise to one canonical form, which is also the match key.

use crate::error::ErrorCode;

/// A parsed identification document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identification {
    /// Cédula de identidad: `V` (Venezuelan) or `E` (foreign resident).
    Cedula { letter: char, number: u32 },
    /// Registro de Información Fiscal, with its check digit.
    Rif { letter: char, number: u32, check: u8 },
}

impl Identification {
    /// Canonical form: `V-12345678` for a cédula, `J-12345678-9` for a RIF (eight digits).
    pub fn canonical(&self) -> String {
        match *self {
            Self::Cedula { letter, number } => format!("{letter}-{number}"),
            Self::Rif { letter, number, check } => format!("{letter}-{number:08}-{check}"),
        }
    }
}

/// Smallest and largest plausible cédula numbers (six to eight significant digits; no cédula
/// has been issued past 99,999,999).
const CEDULA_MIN: u32 = 100_000;
const CEDULA_MAX: u32 = 99_999_999;

fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '.' | '-' | '_' | '/' | ',' | ':')
}

/// Drops a leading `CI`, `C.I.` or `C.I:` ("cédula de identidad"), as written on forms.
fn strip_ci_prefix(raw: &str) -> &str {
    let t = raw.trim_start();
    let upper: String = t.chars().take(5).flat_map(char::to_uppercase).collect();
    for prefix in ["C.I.", "C.I", "CI."] {
        if upper.starts_with(prefix) {
            return t[prefix.len()..].trim_start_matches(is_separator);
        }
    }
    if upper.starts_with("CI")
        && t[2..].starts_with(|c: char| is_separator(c) || c.is_ascii_digit() || "VEve".contains(c))
    {
        return t[2..].trim_start_matches(is_separator);
    }
    t
}

/// Parses a cédula or RIF written in any common form. A bare number is read as a `V` cédula.
///
/// A RIF is recognised by its type letter (J, P, G), by nine digits after V or E, or by a single
/// check digit set apart by a separator (`V-1234567-8`, `V 11470283 4`).
pub fn parse_identification(raw: &str) -> Result<Identification, ErrorCode> {
    let text = strip_ci_prefix(raw).trim();
    let compact: String = text.chars().filter(|c| !is_separator(*c)).flat_map(char::to_uppercase).collect();
    let (letter, digits) = match compact.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => (c, &compact[1..]),
        Some(_) => ('V', compact.as_str()),
        None => return Err(ErrorCode::IdentificationInvalid),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ErrorCode::IdentificationInvalid);
    }
    let check_digit_set_apart = text.rfind(is_separator).is_some_and(|i| {
        let tail = &text[i + 1..];
        tail.len() == 1 && tail.bytes().all(|b| b.is_ascii_digit()) && text[..i].chars().any(|c| c.is_ascii_digit())
    });
    match letter {
        'V' | 'E' if digits.len() == 9 || check_digit_set_apart => {
            match parse_rif(letter, digits) {
                // `V-012345678` is a zero-padded cédula, unless its last digit checks as a RIF's.
                Err(_) if !check_digit_set_apart && digits.starts_with('0') => parse_cedula(letter, digits),
                rif => rif,
            }
        }
        'V' | 'E' => parse_cedula(letter, digits),
        'J' | 'P' | 'G' => parse_rif(letter, digits),
        _ => Err(ErrorCode::IdentificationInvalid),
    }
}

/// The canonical prefixes a partly typed cédula could start: `v12.34` → `["V-1234"]`, a bare
/// `1234` → `["V-1234", "E-1234"]`. `None` when the text is not cédula-like.
pub fn identification_prefixes(raw: &str) -> Vec<String> {
    let text = strip_ci_prefix(raw).trim();
    let compact: String = text.chars().filter(|c| !is_separator(*c)).flat_map(char::to_uppercase).collect();
    let (letters, digits) = compact.split_at(compact.find(|c: char| c.is_ascii_digit()).unwrap_or(compact.len()));
    if digits.len() < 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Vec::new();
    }
    let digits = digits.trim_start_matches('0');
    match letters {
        "" => vec![format!("V-{digits}"), format!("E-{digits}")],
        "V" | "E" => vec![format!("{letters}-{digits}")],
        _ => Vec::new(),
    }
}

fn parse_cedula(letter: char, digits: &str) -> Result<Identification, ErrorCode> {
    let number: u32 = digits.parse().map_err(|_| ErrorCode::IdentificationInvalid)?;
    if (CEDULA_MIN..=CEDULA_MAX).contains(&number) {
        Ok(Identification::Cedula { letter, number })
    } else {
        Err(ErrorCode::IdentificationInvalid)
    }
}

fn parse_rif(letter: char, digits: &str) -> Result<Identification, ErrorCode> {
    // Body of up to eight digits (left-padded with zeros) followed by the check digit.
    if !(2..=9).contains(&digits.len()) {
        return Err(ErrorCode::IdentificationInvalid);
    }
    let (body, check) = digits.split_at(digits.len() - 1);
    let number: u32 = body.parse().map_err(|_| ErrorCode::IdentificationInvalid)?;
    let check: u8 = check.parse().map_err(|_| ErrorCode::IdentificationInvalid)?;
    if number == 0 {
        return Err(ErrorCode::IdentificationInvalid);
    }
    if rif_check_digit(letter, number) != Some(check) {
        return Err(ErrorCode::RifCheckDigit);
    }
    Ok(Identification::Rif { letter, number, check })
}

/// The SENIAT modulus-11 check digit of a RIF: the type letter weighs 4× its ordinal
/// (V=1, E=2, J=3, P=4, G=5), the eight body digits weigh 3 2 7 6 5 4 3 2.
pub fn rif_check_digit(letter: char, number: u32) -> Option<u8> {
    let letter_value = match letter {
        'V' => 1,
        'E' => 2,
        'J' => 3,
        'P' => 4,
        'G' => 5,
        _ => return None,
    };
    if number > 99_999_999 {
        return None;
    }
    const WEIGHTS: [u32; 8] = [3, 2, 7, 6, 5, 4, 3, 2];
    let body = format!("{number:08}");
    let sum: u32 = letter_value * 4 + body.bytes().zip(WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum::<u32>();
    let digit = 11 - sum % 11;
    Some(if digit >= 10 { 0 } else { digit as u8 })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canon(s: &str) -> Result<String, ErrorCode> {
        parse_identification(s).map(|i| i.canonical())
    }

    #[test]
    fn cedula_in_common_written_forms() {
        for form in ["V-12345678", "v12.345.678", "V 12 345 678", "12345678", "V-012345678", "v-12.345.678"] {
            assert_eq!(canon(form).as_deref(), Ok("V-12345678"), "{form}");
        }
        assert_eq!(canon("e-81.234.567").as_deref(), Ok("E-81234567"));
        assert_eq!(canon("V-987654").as_deref(), Ok("V-987654"));
    }

    #[test]
    fn rejects_bad_cedulas() {
        for bad in ["", "V-", "X-12345678", "V-12a45678", "V-1234", "V-0", "abc", "V-123456789012"] {
            assert!(canon(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn rif_with_check_digit() {
        // Examples worked by hand from the SENIAT rule, independent of `rif_check_digit`:
        // python-stdnum's V-11470283-4, SENIAT's own G-20000303-0, and J-00006372-9.
        for (form, canonical) in [
            ("V-11470283-4", "V-11470283-4"),
            ("v114702834", "V-11470283-4"),
            ("V 11470283 4", "V-11470283-4"),
            ("G-20000303-0", "G-20000303-0"),
            ("g200003030", "G-20000303-0"),
            ("J-00006372-9", "J-00006372-9"),
            ("j-6372-9", "J-00006372-9"),
        ] {
            assert_eq!(canon(form).as_deref(), Ok(canonical), "{form}");
        }
        // A seven-digit body with its check digit set apart is a RIF, not the cédula V-12345678.
        let check = rif_check_digit('V', 1_234_567).unwrap();
        assert_eq!(canon(&format!("V-1234567-{check}")), Ok(format!("V-01234567-{check}")));
    }

    #[test]
    fn cedula_prefixes_for_incremental_lookup() {
        assert_eq!(identification_prefixes("v12.34"), vec!["V-1234"]);
        assert_eq!(identification_prefixes("V 12 345"), vec!["V-12345"]);
        assert_eq!(identification_prefixes("1234"), vec!["V-1234", "E-1234"]);
        assert!(identification_prefixes("12").is_empty());
        assert!(identification_prefixes("perez").is_empty());
    }

    #[test]
    fn rif_with_wrong_check_digit_is_named() {
        let good = rif_check_digit('J', 30_071_406).unwrap();
        let bad = (good + 1) % 10;
        assert_eq!(canon(&format!("J-30071406-{bad}")), Err(ErrorCode::RifCheckDigit));
        assert_eq!(canon("V-11470283-5"), Err(ErrorCode::RifCheckDigit));
    }
}
