//! Field-level validation errors with stable codes and messages in Spanish and English.

use serde::{Serialize, Serializer};
use std::fmt;

/// The two languages of the product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Es,
    En,
}

/// Stable machine-readable reason for a field error. The string form is part of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    Required,
    TooLong,
    PhoneOrEmailRequired,
    PhoneInvalid,
    EmailInvalid,
    IdentificationInvalid,
    RifCheckDigit,
    PassportInvalid,
    DateInFuture,
    DateInvalid,
    AmountInvalid,
    CurrencyInvalid,
    LinesInvalid,
    TimeZoneInvalid,
    Duplicate,
    InvalidChoice,
    NotFound,
    NotNormalized,
    ControlCharacter,
    Unstorable,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::TooLong => "too_long",
            Self::PhoneOrEmailRequired => "phone_or_email_required",
            Self::PhoneInvalid => "phone_invalid",
            Self::EmailInvalid => "email_invalid",
            Self::IdentificationInvalid => "identification_invalid",
            Self::RifCheckDigit => "rif_check_digit",
            Self::PassportInvalid => "passport_invalid",
            Self::DateInFuture => "date_in_future",
            Self::DateInvalid => "date_invalid",
            Self::AmountInvalid => "amount_invalid",
            Self::CurrencyInvalid => "currency_invalid",
            Self::LinesInvalid => "lines_invalid",
            Self::TimeZoneInvalid => "time_zone_invalid",
            Self::Duplicate => "duplicate",
            Self::InvalidChoice => "invalid_choice",
            Self::NotFound => "not_found",
            Self::NotNormalized => "not_normalized",
            Self::ControlCharacter => "control_character",
            Self::Unstorable => "unstorable",
        }
    }

    /// The message shown to a person, in the requested language.
    pub fn message(self, lang: Lang) -> &'static str {
        use ErrorCode::*;
        match (self, lang) {
            (Required, Lang::En) => "This field is required.",
            (Required, Lang::Es) => "Este campo es obligatorio.",
            (TooLong, Lang::En) => "This value is too long.",
            (TooLong, Lang::Es) => "Este valor es demasiado largo.",
            (PhoneOrEmailRequired, Lang::En) => "Give at least a phone number or an email.",
            (PhoneOrEmailRequired, Lang::Es) => "Indique al menos un teléfono o un correo.",
            (PhoneInvalid, Lang::En) => "Not a valid phone number (e.g. 0414-123.45.67 or +1 305 555 0100).",
            (PhoneInvalid, Lang::Es) => "Teléfono no válido (p. ej. 0414-123.45.67 o +1 305 555 0100).",
            (EmailInvalid, Lang::En) => "Not a valid email address.",
            (EmailInvalid, Lang::Es) => "Correo electrónico no válido.",
            (IdentificationInvalid, Lang::En) => "Not a valid cédula (V-12345678 / E-12345678) or RIF (J-12345678-9).",
            (IdentificationInvalid, Lang::Es) => "Cédula (V-12345678 / E-12345678) o RIF (J-12345678-9) no válido.",
            (RifCheckDigit, Lang::En) => "The RIF check digit does not match.",
            (RifCheckDigit, Lang::Es) => "El dígito verificador del RIF no coincide.",
            (PassportInvalid, Lang::En) => "A passport number has 5 to 20 letters and digits.",
            (PassportInvalid, Lang::Es) => "Un pasaporte tiene de 5 a 20 letras y dígitos.",
            (DateInFuture, Lang::En) => "This date cannot be in the future.",
            (DateInFuture, Lang::Es) => "Esta fecha no puede estar en el futuro.",
            (DateInvalid, Lang::En) => "Not a valid date (YYYY-MM-DD).",
            (DateInvalid, Lang::Es) => "Fecha no válida (AAAA-MM-DD).",
            (AmountInvalid, Lang::En) => "The amount must be zero or more and match the lines.",
            (AmountInvalid, Lang::Es) => "El monto debe ser cero o más y cuadrar con las líneas.",
            (CurrencyInvalid, Lang::En) => "Use a three-letter currency code (VES, USD, EUR).",
            (CurrencyInvalid, Lang::Es) => "Use un código de moneda de tres letras (VES, USD, EUR).",
            (LinesInvalid, Lang::En) => "Each line needs a description, a quantity above zero and a price.",
            (LinesInvalid, Lang::Es) => "Cada línea necesita descripción, cantidad mayor que cero y precio.",
            (TimeZoneInvalid, Lang::En) => "Unknown time zone (e.g. America/Caracas).",
            (TimeZoneInvalid, Lang::Es) => "Zona horaria desconocida (p. ej. America/Caracas).",
            (Duplicate, Lang::En) => "Another customer already has this value.",
            (Duplicate, Lang::Es) => "Otro cliente ya tiene este valor.",
            (InvalidChoice, Lang::En) => "This value is not one of the allowed choices.",
            (InvalidChoice, Lang::Es) => "Este valor no es una de las opciones permitidas.",
            (NotFound, Lang::En) => "No record with this id exists.",
            (NotFound, Lang::Es) => "No existe ningún registro con este id.",
            (NotNormalized, Lang::En) => {
                "Send this identifier in its normalised form (e.g. +584141234567, V-12345678)."
            }
            (NotNormalized, Lang::Es) => "Envíe este identificador normalizado (p. ej. +584141234567, V-12345678).",
            (ControlCharacter, Lang::En) => "This value holds a control character; type it again.",
            (ControlCharacter, Lang::Es) => "Este valor contiene un carácter de control; escríbalo de nuevo.",
            (Unstorable, Lang::En) => "The server could not store this change; correct it or discard it.",
            (Unstorable, Lang::Es) => "El servidor no pudo guardar este cambio; corríjalo o descártelo.",
        }
    }
}

impl ErrorCode {
    const ALL: [ErrorCode; 20] = [
        Self::Required,
        Self::TooLong,
        Self::PhoneOrEmailRequired,
        Self::PhoneInvalid,
        Self::EmailInvalid,
        Self::IdentificationInvalid,
        Self::RifCheckDigit,
        Self::PassportInvalid,
        Self::DateInFuture,
        Self::DateInvalid,
        Self::AmountInvalid,
        Self::CurrencyInvalid,
        Self::LinesInvalid,
        Self::TimeZoneInvalid,
        Self::Duplicate,
        Self::InvalidChoice,
        Self::NotFound,
        Self::NotNormalized,
        Self::ControlCharacter,
        Self::Unstorable,
    ];

    /// The code with this API name.
    pub fn from_name(name: &str) -> Option<ErrorCode> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

impl<'de> serde::Deserialize<'de> for ErrorCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Self::from_name(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown error code {name:?}")))
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One problem with one field. Serialises with both messages; reads back from field and code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct FieldError {
    pub field: String,
    pub code: ErrorCode,
}

impl Serialize for FieldError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("FieldError", 4)?;
        st.serialize_field("field", &self.field)?;
        st.serialize_field("code", &self.code)?;
        st.serialize_field("message", self.code.message(Lang::En))?;
        st.serialize_field("message_es", self.code.message(Lang::Es))?;
        st.end()
    }
}

/// Every field error of one input, reported together so a form can show them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize, thiserror::Error)]
#[serde(transparent)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid input:")?;
        for e in &self.0 {
            write!(f, " {}={}", e.field, e.code)?;
        }
        Ok(())
    }
}

impl ValidationErrors {
    /// Errors for a single field.
    pub fn one(field: impl Into<String>, code: ErrorCode) -> Self {
        Self(vec![FieldError { field: field.into(), code }])
    }

    pub fn push(&mut self, field: impl Into<String>, code: ErrorCode) {
        self.0.push(FieldError { field: field.into(), code });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The code reported for `field`, if any (first one).
    pub fn code_for(&self, field: &str) -> Option<ErrorCode> {
        self.0.iter().find(|e| e.field == field).map(|e| e.code)
    }

    /// `Ok(value)` when no error was collected.
    pub fn into_result<T>(self, value: T) -> Result<T, ValidationErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_by_name() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_name(code.as_str()), Some(code));
            assert!(!code.message(Lang::Es).is_empty() && !code.message(Lang::En).is_empty());
        }
        let errors = ValidationErrors::one("phone", ErrorCode::PhoneInvalid);
        let back: ValidationErrors = serde_json::from_value(serde_json::to_value(&errors).unwrap()).unwrap();
        assert_eq!(back, errors);
    }
}
