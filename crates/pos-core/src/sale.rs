//! Sales: what a checkout records for a customer (lines or just a total, currency, payment
//! method), validated before it is stored or synced.

use crate::error::{ErrorCode, ValidationErrors};
use crate::text::{has_control, Controls};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    Cash,
    Card,
    MobilePayment,
    Transfer,
    Zelle,
    Other,
}

/// One line of a sale. Prices are in minor units (cents) of the sale's currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaleLine {
    pub description: String,
    pub quantity: f64,
    pub unit_price_minor: i64,
}

impl SaleLine {
    /// The line's amount, or `None` when it does not fit (absurd quantities).
    pub fn total_minor(&self) -> Option<i64> {
        let total = (self.quantity * self.unit_price_minor as f64).round();
        (total.is_finite() && total.abs() < 9.0e15).then_some(total as i64)
    }
}

/// A recorded sale. Sales are immutable once recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sale {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub customer_id: Uuid,
    pub branch_id: Option<Uuid>,
    pub terminal_id: Option<Uuid>,
    pub lines: Vec<SaleLine>,
    pub total_minor: i64,
    pub currency: String,
    pub payment_method: PaymentMethod,
    pub sold_at: DateTime<Utc>,
}

/// A sale as the checkout submits it: lines, or only a total, or both (then they must agree).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SaleInput {
    #[serde(default)]
    pub lines: Vec<SaleLine>,
    pub total_minor: Option<i64>,
    pub currency: String,
    pub payment_method: PaymentMethod,
}

/// Reads an amount typed by a person (`12.50`, `12,50`, `1.234,50`, `1,234.50`, `1.234`, `7`) as
/// minor units (cents). A `.` or `,` followed by one or two digits at the end is the decimal
/// separator; any other separator groups thousands and must be followed by exactly three digits.
pub fn parse_amount_minor(raw: &str) -> Result<i64, ErrorCode> {
    let t: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    let invalid = ErrorCode::AmountInvalid;
    let (int_part, frac_part) = match t.rfind(['.', ',']) {
        Some(i) if (1..=2).contains(&(t.len() - i - 1)) => (&t[..i], &t[i + 1..]),
        _ => (t.as_str(), ""),
    };
    let mut groups = int_part.split(['.', ',']);
    let first = groups.next().unwrap_or_default();
    let rest: Vec<&str> = groups.collect();
    let grouped_ok = rest.is_empty()
        || (rest.iter().all(|g| g.len() == 3) && (1..=3).contains(&first.len()) && !first.starts_with('0'));
    let digits: String = std::iter::once(first).chain(rest.iter().copied()).collect();
    if digits.is_empty() || !grouped_ok || !digits.chars().chain(frac_part.chars()).all(|c| c.is_ascii_digit()) {
        return Err(invalid);
    }
    let units: i64 = digits.parse().map_err(|_| invalid)?;
    let cents: i64 = format!("{frac_part:0<2}").parse().map_err(|_| invalid)?;
    units.checked_mul(100).and_then(|u| u.checked_add(cents)).ok_or(invalid)
}

/// Checks a sale and returns its total in minor units.
pub fn validate_sale(input: &SaleInput) -> Result<i64, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let lines_ok = input.lines.iter().all(|l| {
        !l.description.trim().is_empty() && l.quantity.is_finite() && l.quantity > 0.0 && l.unit_price_minor >= 0
    });
    if !lines_ok {
        errors.push("lines", ErrorCode::LinesInvalid);
    }
    // A description is printed on a receipt and stored as text: no control characters.
    if input.lines.iter().any(|l| has_control(&l.description, Controls::None)) {
        errors.push("lines", ErrorCode::ControlCharacter);
    }
    let from_lines = input.lines.iter().try_fold(0i64, |sum, line| line.total_minor().and_then(|t| sum.checked_add(t)));
    let Some(from_lines) = from_lines else {
        errors.push("lines", ErrorCode::AmountInvalid);
        return Err(errors);
    };
    let total = match input.total_minor {
        Some(t) if t < 0 || (!input.lines.is_empty() && t != from_lines) => {
            errors.push("total_minor", ErrorCode::AmountInvalid);
            0
        }
        Some(t) => t,
        None if input.lines.is_empty() => {
            errors.push("total_minor", ErrorCode::Required);
            0
        }
        None => from_lines,
    };
    let c = &input.currency;
    if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
        errors.push("currency", ErrorCode::CurrencyInvalid);
    }
    errors.into_result(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(q: f64, p: i64) -> SaleLine {
        SaleLine { description: "Harina PAN".into(), quantity: q, unit_price_minor: p }
    }

    #[test]
    fn total_comes_from_lines_or_is_given() {
        let with_lines = SaleInput {
            lines: vec![line(2.0, 150), line(0.5, 1000)],
            total_minor: None,
            currency: "USD".into(),
            payment_method: PaymentMethod::Cash,
        };
        assert_eq!(validate_sale(&with_lines), Ok(800));
        let only_total = SaleInput { lines: vec![], total_minor: Some(2500), ..with_lines.clone() };
        assert_eq!(validate_sale(&only_total), Ok(2500));
    }

    #[test]
    fn amounts_in_both_decimal_conventions() {
        for (raw, minor) in [
            ("12.50", 1250),
            ("12,5", 1250),
            ("1.234,56", 123_456),
            ("1,234.56", 123_456),
            ("7", 700),
            ("0,99", 99),
            ("1.234", 123_400),
        ] {
            assert_eq!(parse_amount_minor(raw), Ok(minor), "{raw}");
        }
        for bad in ["", "-3", "abc", "1.2.3x", ".", "0.125", "1.2345", "12,34,5", "1234.567", ".5"] {
            assert_eq!(parse_amount_minor(bad), Err(ErrorCode::AmountInvalid), "{bad}");
        }
    }

    #[test]
    fn rejects_mismatch_bad_currency_and_bad_lines() {
        let bad = SaleInput {
            lines: vec![line(0.0, 150)],
            total_minor: Some(1),
            currency: "usd".into(),
            payment_method: PaymentMethod::Card,
        };
        let errs = validate_sale(&bad).unwrap_err();
        assert_eq!(errs.code_for("lines"), Some(ErrorCode::LinesInvalid));
        assert_eq!(errs.code_for("total_minor"), Some(ErrorCode::AmountInvalid));
        assert_eq!(errs.code_for("currency"), Some(ErrorCode::CurrencyInvalid));
        let empty =
            SaleInput { lines: vec![], total_minor: None, currency: "VES".into(), payment_method: PaymentMethod::Cash };
        assert_eq!(validate_sale(&empty).unwrap_err().code_for("total_minor"), Some(ErrorCode::Required));
    }

    #[test]
    fn a_line_description_holds_no_control_character() {
        let mut bad = line(1.0, 150);
        bad.description = "Harina\0PAN".into();
        let sale = SaleInput {
            lines: vec![bad],
            total_minor: None,
            currency: "USD".into(),
            payment_method: PaymentMethod::Cash,
        };
        assert_eq!(validate_sale(&sale).unwrap_err().code_for("lines"), Some(ErrorCode::ControlCharacter));
    }
}
