//! Validation of customer input: every field error at once, each with a stable code, and the
//! normalised values when the input is valid.

use crate::customer::{split_full_name, CustomerInput, Source};
use crate::error::{ErrorCode, ValidationErrors};
use crate::keys::{normalize_email, normalize_identification, normalize_passport, MatchKeys};
use crate::phone::normalize_phone;
use crate::text::{clean, has_control, strip_invisible, Controls};
use chrono::NaiveDate;
use serde::Serialize;
use std::borrow::Cow;
use uuid::Uuid;

const NAME_MAX: usize = 100;
const ADDRESS_MAX: usize = 500;
const CITY_MAX: usize = 100;
const NOTES_MAX: usize = 2000;
const SERVICE_TYPE_MAX: usize = 100;

/// Customer data that passed validation, with every identifier in its normalised form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidCustomer {
    pub first_name: String,
    pub surname: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub identification: Option<String>,
    pub passport_number: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub notes: Option<String>,
    pub source: Source,
    pub service_type: Option<String>,
    pub branch_id: Option<Uuid>,
}

impl ValidCustomer {
    pub fn keys(&self) -> MatchKeys {
        MatchKeys {
            phone: self.phone.clone(),
            email: self.email.clone(),
            passport: self.passport_number.clone(),
            identification: self.identification.clone(),
        }
    }
}

/// Validates customer input under seed 2's rules: name and surname required, at least one of
/// phone or email, every identifier well-formed, date of birth not after `today`.
/// A value holding a control character is refused (`control_character`, notes and address may
/// hold line breaks and tabs) and then treated as absent; invisible characters are dropped
/// from every value before anything else reads it.
pub fn validate_customer(input: &CustomerInput, today: NaiveDate) -> Result<ValidCustomer, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let raw = Raw::screen(input, &mut errors);

    let (mut first_name, mut surname) = (clean(raw.first_name.as_deref()), clean(raw.surname.as_deref()));
    if first_name.is_none() && surname.is_none() {
        if let Some(full) = clean(raw.full_name.as_deref()) {
            let (f, s) = split_full_name(&full);
            first_name = Some(f).filter(|s| !s.is_empty());
            surname = Some(s).filter(|s| !s.is_empty());
        }
    }
    let first_name = required_text(&mut errors, "first_name", first_name, NAME_MAX);
    let surname = required_text(&mut errors, "surname", surname, NAME_MAX);

    let phone = normalized(&mut errors, "phone", raw.phone.as_deref(), normalize_phone);
    let email = normalized(&mut errors, "email", raw.email.as_deref(), normalize_email);
    if clean(raw.phone.as_deref()).is_none() && clean(raw.email.as_deref()).is_none() {
        errors.push("phone", ErrorCode::PhoneOrEmailRequired);
        errors.push("email", ErrorCode::PhoneOrEmailRequired);
    }
    let identification =
        normalized(&mut errors, "identification", raw.identification.as_deref(), normalize_identification);
    let passport_number =
        normalized(&mut errors, "passport_number", raw.passport_number.as_deref(), normalize_passport);
    let date_of_birth = normalized(&mut errors, "date_of_birth", raw.date_of_birth.as_deref(), |raw| {
        let date = parse_date(raw)?;
        if date > today {
            Err(ErrorCode::DateInFuture)
        } else {
            Ok(date)
        }
    });

    let address = optional_text(&mut errors, "address", raw.address.as_deref(), ADDRESS_MAX);
    let city = optional_text(&mut errors, "city", raw.city.as_deref(), CITY_MAX);
    let notes = optional_text(&mut errors, "notes", raw.notes.as_deref(), NOTES_MAX);
    let service_type = optional_text(&mut errors, "service_type", raw.service_type.as_deref(), SERVICE_TYPE_MAX);
    let source =
        normalized(&mut errors, "source", raw.source.as_deref(), |s| Source::parse(s).ok_or(ErrorCode::InvalidChoice))
            .unwrap_or_default();

    errors.into_result(ValidCustomer {
        first_name: first_name.unwrap_or_default(),
        surname: surname.unwrap_or_default(),
        phone,
        email,
        identification,
        passport_number,
        date_of_birth,
        address,
        city,
        notes,
        source,
        service_type,
        branch_id: input.branch_id,
    })
}

/// The input's text fields as validation reads them: without invisible characters, and absent
/// where a control character was refused.
struct Raw<'a> {
    first_name: Option<Cow<'a, str>>,
    surname: Option<Cow<'a, str>>,
    full_name: Option<Cow<'a, str>>,
    phone: Option<Cow<'a, str>>,
    email: Option<Cow<'a, str>>,
    identification: Option<Cow<'a, str>>,
    passport_number: Option<Cow<'a, str>>,
    date_of_birth: Option<Cow<'a, str>>,
    address: Option<Cow<'a, str>>,
    city: Option<Cow<'a, str>>,
    notes: Option<Cow<'a, str>>,
    source: Option<Cow<'a, str>>,
    service_type: Option<Cow<'a, str>>,
}

impl<'a> Raw<'a> {
    fn screen(input: &'a CustomerInput, errors: &mut ValidationErrors) -> Self {
        let mut field = |name: &str, value: &'a Option<String>, allowed: Controls| {
            let value = value.as_deref()?;
            if has_control(value, allowed) {
                errors.push(name, ErrorCode::ControlCharacter);
                return None;
            }
            Some(strip_invisible(value))
        };
        Raw {
            first_name: field("first_name", &input.first_name, Controls::None),
            surname: field("surname", &input.surname, Controls::None),
            full_name: field("full_name", &input.full_name, Controls::None),
            phone: field("phone", &input.phone, Controls::None),
            email: field("email", &input.email, Controls::None),
            identification: field("identification", &input.identification, Controls::None),
            passport_number: field("passport_number", &input.passport_number, Controls::None),
            date_of_birth: field("date_of_birth", &input.date_of_birth, Controls::None),
            address: field("address", &input.address, Controls::Layout),
            city: field("city", &input.city, Controls::None),
            notes: field("notes", &input.notes, Controls::Layout),
            source: field("source", &input.source, Controls::None),
            service_type: field("service_type", &input.service_type, Controls::None),
        }
    }
}

/// Accepts ISO `YYYY-MM-DD` and the Venezuelan `DD/MM/YYYY`.
fn parse_date(raw: &str) -> Result<NaiveDate, ErrorCode> {
    let raw = raw.trim();
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d/%m/%Y"))
        .map_err(|_| ErrorCode::DateInvalid)?;
    if date < NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid date") {
        return Err(ErrorCode::DateInvalid);
    }
    Ok(date)
}

fn required_text(errors: &mut ValidationErrors, field: &str, value: Option<String>, max: usize) -> Option<String> {
    match value {
        // Refused already (a control character): "required" would only repeat it.
        None if errors.code_for(field).is_some() => None,
        None => {
            errors.push(field, ErrorCode::Required);
            None
        }
        Some(v) if v.chars().count() > max => {
            errors.push(field, ErrorCode::TooLong);
            None
        }
        Some(v) => Some(v),
    }
}

fn optional_text(errors: &mut ValidationErrors, field: &str, raw: Option<&str>, max: usize) -> Option<String> {
    let value = clean(raw)?;
    if value.chars().count() > max {
        errors.push(field, ErrorCode::TooLong);
        return None;
    }
    Some(value)
}

/// Normalises an optional field: blank is `None`, malformed records its error.
fn normalized<T>(
    errors: &mut ValidationErrors,
    field: &str,
    raw: Option<&str>,
    f: impl FnOnce(&str) -> Result<T, ErrorCode>,
) -> Option<T> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
    match f(raw) {
        Ok(v) => Some(v),
        Err(code) => {
            errors.push(field, code);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).unwrap()
    }

    fn juan() -> CustomerInput {
        CustomerInput {
            first_name: Some(" Juan ".into()),
            surname: Some("Pérez".into()),
            phone: Some("0414-123.45.67".into()),
            email: Some("Juan@Example.com".into()),
            identification: Some("v12.345.678".into()),
            ..Default::default()
        }
    }

    #[test]
    fn control_characters_are_refused_per_field() {
        let input = CustomerInput {
            first_name: Some("Ana\0".into()),
            surname: Some("Ro\u{7}jas".into()),
            city: Some("Caracas\n".into()),
            email: Some("ana\u{0}@example.com".into()),
            notes: Some("first line\r\nsecond\tline\u{1B}".into()),
            ..juan()
        };
        let errs = validate_customer(&input, today()).unwrap_err();
        for field in ["first_name", "surname", "city", "email", "notes"] {
            assert_eq!(errs.code_for(field), Some(ErrorCode::ControlCharacter), "{field}");
        }
        assert_eq!(errs.0.iter().filter(|e| e.field == "first_name").count(), 1, "not also required");
        assert_eq!(errs.code_for("phone"), None, "the phone still stands in for the refused email");

        let layout = CustomerInput {
            notes: Some("first line\r\nsecond\tline".into()),
            address: Some("Av. Urdaneta\nEdif. Sur".into()),
            ..juan()
        };
        let v = validate_customer(&layout, today()).unwrap();
        assert!(v.notes.is_some() && v.address.is_some());
        let full = CustomerInput { first_name: None, surname: None, full_name: Some("Ali\u{0}Khan".into()), ..juan() };
        assert_eq!(
            validate_customer(&full, today()).unwrap_err().code_for("full_name"),
            Some(ErrorCode::ControlCharacter)
        );
    }

    #[test]
    fn invisible_characters_are_dropped_from_every_field() {
        let input = CustomerInput {
            first_name: Some("\u{FEFF}Ju\u{200B}an".into()),
            surname: Some("\u{202E}Pérez\u{202C}".into()),
            email: Some("juan\u{200D}@example.com".into()),
            identification: Some("V-12\u{2066}345678".into()),
            ..juan()
        };
        let v = validate_customer(&input, today()).unwrap();
        assert_eq!((v.first_name.as_str(), v.surname.as_str()), ("Juan", "Pérez"));
        assert_eq!(v.email.as_deref(), Some("juan@example.com"));
        assert_eq!(v.identification.as_deref(), Some("V-12345678"));
        let blank = CustomerInput { first_name: Some("\u{200B}".into()), ..juan() };
        assert_eq!(validate_customer(&blank, today()).unwrap_err().code_for("first_name"), Some(ErrorCode::Required));
    }

    #[test]
    fn valid_input_is_normalised() {
        let v = validate_customer(&juan(), today()).unwrap();
        assert_eq!(v.first_name, "Juan");
        assert_eq!(v.phone.as_deref(), Some("+584141234567"));
        assert_eq!(v.email.as_deref(), Some("juan@example.com"));
        assert_eq!(v.identification.as_deref(), Some("V-12345678"));
        assert_eq!(v.source, Source::Pos);
    }

    #[test]
    fn reports_every_error_at_once() {
        let input = CustomerInput {
            phone: Some("12".into()),
            email: Some("not-an-email".into()),
            identification: Some("X-1".into()),
            passport_number: Some("#".into()),
            date_of_birth: Some("2030-01-01".into()),
            source: Some("alien".into()),
            ..Default::default()
        };
        let errs = validate_customer(&input, today()).unwrap_err();
        assert_eq!(errs.code_for("first_name"), Some(ErrorCode::Required));
        assert_eq!(errs.code_for("surname"), Some(ErrorCode::Required));
        assert_eq!(errs.code_for("phone"), Some(ErrorCode::PhoneInvalid));
        assert_eq!(errs.code_for("email"), Some(ErrorCode::EmailInvalid));
        assert_eq!(errs.code_for("identification"), Some(ErrorCode::IdentificationInvalid));
        assert_eq!(errs.code_for("passport_number"), Some(ErrorCode::PassportInvalid));
        assert_eq!(errs.code_for("date_of_birth"), Some(ErrorCode::DateInFuture));
        assert_eq!(errs.code_for("source"), Some(ErrorCode::InvalidChoice));
    }

    #[test]
    fn phone_or_email_is_required() {
        let input = CustomerInput { phone: None, email: Some("  ".into()), ..juan() };
        let errs = validate_customer(&input, today()).unwrap_err();
        assert_eq!(errs.code_for("phone"), Some(ErrorCode::PhoneOrEmailRequired));
        let email_only = CustomerInput { phone: None, ..juan() };
        assert!(validate_customer(&email_only, today()).is_ok());
    }

    #[test]
    fn full_name_fills_name_and_surname() {
        let input = CustomerInput { first_name: None, surname: None, full_name: Some("Ali Khan".into()), ..juan() };
        let v = validate_customer(&input, today()).unwrap();
        assert_eq!((v.first_name.as_str(), v.surname.as_str()), ("Ali", "Khan"));
    }

    #[test]
    fn dates_in_both_written_forms() {
        let iso = CustomerInput { date_of_birth: Some("1990-05-17".into()), ..juan() };
        let ve = CustomerInput { date_of_birth: Some("17/05/1990".into()), ..juan() };
        assert_eq!(
            validate_customer(&iso, today()).unwrap().date_of_birth,
            validate_customer(&ve, today()).unwrap().date_of_birth
        );
        let bad = CustomerInput { date_of_birth: Some("31/02/1990".into()), ..juan() };
        assert_eq!(
            validate_customer(&bad, today()).unwrap_err().code_for("date_of_birth"),
            Some(ErrorCode::DateInvalid)
        );
    }

    #[test]
    fn error_json_names_field_code_and_both_messages() {
        let errs = validate_customer(&CustomerInput { phone: Some("1".into()), ..juan() }, today()).unwrap_err();
        let json = serde_json::to_value(&errs).unwrap();
        assert_eq!(json[0]["field"], "phone");
        assert_eq!(json[0]["code"], "phone_invalid");
        assert!(json[0]["message"].as_str().unwrap().contains("phone"));
        assert!(json[0]["message_es"].as_str().unwrap().contains("Teléfono"));
    }
}
