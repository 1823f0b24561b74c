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
    Rif {
        letter: char,
        number: u32,
        check: u8,
    },
}

impl Identification {
    /// Canonical form: `V-12345678` for a cédula, `J-12345678-9` for a RIF (eight digits).
    pub fn canonical(&self) -> String {
        match *self {
            Self::Cedula { letter, number } => format!("{letter}-{number}"),
            Self::Rif {
                letter,
                number,
                check,
            } => format!("{letter}-{number:08}-{check}"),
        }
    }
}

/// Smallest and largest plausible cédula numbers (six to nine significant digits).
const CEDULA_MIN: u32 = 100_000;
const CEDULA_MAX: u32 = 999_999_999;

/// Parses a cédula or RIF written in any common form. A bare number is read as a `V` cédula.
pub fn parse_identification(raw: &str) -> Result<Identification, ErrorCode> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '_' | '/' | ','))
        .flat_map(char::to_uppercase)
        .collect();
    let (letter, digits) = match compact.chars().next() {
        Some(c) if c.is_ascii_alphabetic() => (c, &compact[1..]),
        Some(_) => ('V', compact.as_str()),
        None => return Err(ErrorCode::IdentificationInvalid),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ErrorCode::IdentificationInvalid);
    }
    let has_explicit_dashes = raw.matches('-').count();
    match letter {
        // Nine digits with a V/E prefix is a RIF of a natural person when the trailing digit is a
        // valid check digit written after a second dash; otherwise it is a long cédula.
        'V' | 'E' if digits.len() == 9 && has_explicit_dashes >= 2 => parse_rif(letter, digits),
        'V' | 'E' => {
            let number: u32 = digits
                .parse()
                .map_err(|_| ErrorCode::IdentificationInvalid)?;
            if (CEDULA_MIN..=CEDULA_MAX).contains(&number) {
                Ok(Identification::Cedula { letter, number })
            } else {
                Err(ErrorCode::IdentificationInvalid)
            }
        }
        'J' | 'P' | 'G' => parse_rif(letter, digits),
        _ => Err(ErrorCode::IdentificationInvalid),
    }
}

fn parse_rif(letter: char, digits: &str) -> Result<Identification, ErrorCode> {
    // Body of up to eight digits (left-padded with zeros) followed by the check digit.
    if !(2..=9).contains(&digits.len()) {
        return Err(ErrorCode::IdentificationInvalid);
    }
    let (body, check) = digits.split_at(digits.len() - 1);
    let number: u32 = body.parse().map_err(|_| ErrorCode::IdentificationInvalid)?;
    let check: u8 = check
        .parse()
        .map_err(|_| ErrorCode::IdentificationInvalid)?;
    if number == 0 {
        return Err(ErrorCode::IdentificationInvalid);
    }
    if rif_check_digit(letter, number) != Some(check) {
        return Err(ErrorCode::RifCheckDigit);
    }
    Ok(Identification::Rif {
        letter,
        number,
        check,
    })
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
    let sum: u32 = letter_value * 4
        + body
            .bytes()
            .zip(WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum::<u32>();
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
        for form in [
            "V-12345678",
            "v12.345.678",
            "V 12 345 678",
            "12345678",
            "V-012345678",
            "v-12.345.678",
        ] {
            assert_eq!(canon(form).as_deref(), Ok("V-12345678"), "{form}");
        }
        assert_eq!(canon("e-81.234.567").as_deref(), Ok("E-81234567"));
        assert_eq!(canon("V-987654").as_deref(), Ok("V-987654"));
    }

    #[test]
    fn rejects_bad_cedulas() {
        for bad in ["", "V-", "X-12345678", "V-12a45678", "V-1234", "V-0", "abc"] {
            assert!(canon(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn rif_with_check_digit() {
        // Published example of a valid natural-person RIF.
        assert_eq!(canon("V-11470283-4").as_deref(), Ok("V-11470283-4"));
        // Without the second dash nine digits after V read as a (long) cédula, never a RIF.
        assert_eq!(canon("v114702834").as_deref(), Ok("V-114702834"));
        let check = rif_check_digit('J', 30_071_406).unwrap();
        assert_eq!(
            canon(&format!("j-30071406-{check}")),
            Ok(format!("J-30071406-{check}"))
        );
        assert_eq!(
            canon(&format!("J300714 06{check}")),
            Ok(format!("J-30071406-{check}"))
        );
        let g = rif_check_digit('G', 2_000_004).unwrap();
        assert_eq!(
            canon(&format!("G-2000004-{g}")),
            Ok(format!("G-02000004-{g}"))
        );
    }

    #[test]
    fn rif_with_wrong_check_digit_is_named() {
        let good = rif_check_digit('J', 30_071_406).unwrap();
        let bad = (good + 1) % 10;
        assert_eq!(
            canon(&format!("J-30071406-{bad}")),
            Err(ErrorCode::RifCheckDigit)
        );
        assert_eq!(canon("V-11470283-5"), Err(ErrorCode::RifCheckDigit));
    }
}
