//! Match keys: the normalised identifiers by which two records are the same customer, and their
//! priority order phone → email → passport → identification (cédula or RIF).

use crate::error::ErrorCode;
use crate::identification::parse_identification;
use crate::phone::normalize_phone;
use serde::{Deserialize, Serialize};

/// A kind of match key, in dedupe priority order (`Phone` decides first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    Phone,
    Email,
    Passport,
    Identification,
}

impl KeyKind {
    /// All kinds, highest priority first.
    pub const PRIORITY: [KeyKind; 4] = [Self::Phone, Self::Email, Self::Passport, Self::Identification];

    /// The customer field that holds this key.
    pub fn field(self) -> &'static str {
        match self {
            Self::Phone => "phone",
            Self::Email => "email",
            Self::Passport => "passport_number",
            Self::Identification => "identification",
        }
    }
}

/// Lower-cased, trimmed email, if it is a plausible address.
pub fn normalize_email(raw: &str) -> Result<String, ErrorCode> {
    let e = raw.trim().to_lowercase();
    let valid = e.len() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && e.matches('@').count() == 1
        && match e.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && local.len() <= 64
                    && !local.starts_with('.')
                    && !local.ends_with('.')
                    && !local.contains("..")
                    && domain.contains('.')
                    && domain.split('.').all(|label| {
                        !label.is_empty()
                            && label.len() <= 63
                            && !label.starts_with('-')
                            && !label.ends_with('-')
                            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
                    })
                    && domain
                        .rsplit('.')
                        .next()
                        .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()))
            }
            None => false,
        };
    if valid {
        Ok(e)
    } else {
        Err(ErrorCode::EmailInvalid)
    }
}

/// Upper-cased passport number without spaces or dashes; 5 to 20 letters and digits.
pub fn normalize_passport(raw: &str) -> Result<String, ErrorCode> {
    let p: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '.')).flat_map(char::to_uppercase).collect();
    if (5..=20).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(p)
    } else {
        Err(ErrorCode::PassportInvalid)
    }
}

/// Canonical cédula / RIF.
pub fn normalize_identification(raw: &str) -> Result<String, ErrorCode> {
    parse_identification(raw).map(|i| i.canonical())
}

/// Normalises a raw value of key `kind`.
pub fn normalize_key(kind: KeyKind, raw: &str) -> Result<String, ErrorCode> {
    match kind {
        KeyKind::Phone => normalize_phone(raw),
        KeyKind::Email => normalize_email(raw),
        KeyKind::Passport => normalize_passport(raw),
        KeyKind::Identification => normalize_identification(raw),
    }
}

/// The normalised keys of one record. A key that is empty or malformed is `None`: it takes no
/// part in matching (strict endpoints reject it before this point).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchKeys {
    pub phone: Option<String>,
    pub email: Option<String>,
    pub passport: Option<String>,
    pub identification: Option<String>,
}

impl MatchKeys {
    /// Normalises raw identifiers, ignoring the ones that do not parse.
    pub fn from_raw(
        phone: Option<&str>,
        email: Option<&str>,
        passport: Option<&str>,
        identification: Option<&str>,
    ) -> Self {
        let key = |kind, raw: Option<&str>| raw.and_then(|v| normalize_key(kind, v).ok());
        Self {
            phone: key(KeyKind::Phone, phone),
            email: key(KeyKind::Email, email),
            passport: key(KeyKind::Passport, passport),
            identification: key(KeyKind::Identification, identification),
        }
    }

    pub fn get(&self, kind: KeyKind) -> Option<&str> {
        match kind {
            KeyKind::Phone => self.phone.as_deref(),
            KeyKind::Email => self.email.as_deref(),
            KeyKind::Passport => self.passport.as_deref(),
            KeyKind::Identification => self.identification.as_deref(),
        }
    }

    /// The present keys, highest priority first.
    pub fn iter(&self) -> impl Iterator<Item = (KeyKind, &str)> {
        KeyKind::PRIORITY.into_iter().filter_map(|k| self.get(k).map(|v| (k, v)))
    }

    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_lowered() {
        assert_eq!(normalize_email("  Juan.Perez@Example.COM ").as_deref(), Ok("juan.perez@example.com"));
        assert_eq!(normalize_email("josé@correo.com.ve").as_deref(), Ok("josé@correo.com.ve"));
        for bad in ["", "juan", "juan@", "@x.com", "a b@x.com", "a@@x.com", "a@x", "a@x..com", "a@-x.com", "a@x.1"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passport_drops_spaces_and_dashes() {
        assert_eq!(normalize_passport(" px-111 222 ").as_deref(), Ok("PX111222"));
        assert!(normalize_passport("P1").is_err());
        assert!(normalize_passport("P12#45").is_err());
    }

    #[test]
    fn malformed_keys_are_ignored_for_matching() {
        let k = MatchKeys::from_raw(Some("garbage"), Some("ANA@X.COM"), Some(""), Some("v12.345.678"));
        assert_eq!(k.phone, None);
        assert_eq!(k.email.as_deref(), Some("ana@x.com"));
        assert_eq!(k.passport, None);
        assert_eq!(k.identification.as_deref(), Some("V-12345678"));
        assert_eq!(k.iter().map(|(kind, _)| kind).collect::<Vec<_>>(), vec![KeyKind::Email, KeyKind::Identification]);
    }
}
