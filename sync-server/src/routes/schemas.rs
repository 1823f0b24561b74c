//! The request and error shapes the OpenAPI document describes where the Rust types are not
//! themselves schemas (inputs read field by field, the one error body): mirrors for the
//! document only, used by the handlers' annotations and by `openapi`.

use crate::error::FieldErrorMap;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The one error shape: `{"error": {...}}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// `invalid`, `duplicate`, `unauthorized`, `forbidden`, `not_found`, `bad_request`,
    /// `too_large`, `timeout` or `internal`.
    pub kind: String,
    pub message: String,
    /// Field → its errors (422, 409); `{}` on every other error answer.
    pub fields: FieldErrorMap,
    /// The customer already holding the identifier (409).
    pub existing_id: Option<Uuid>,
}

/// Customer data in seed 2's field names (`name` for `first_name`) or seed 1's (`full_name`,
/// `branch`). Identifiers may be written any way; they are stored normalised.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct CustomerInputDoc {
    first_name: Option<String>,
    surname: Option<String>,
    full_name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    /// Venezuelan cédula (`V-12345678`, `E-12345678`) or RIF.
    identification: Option<String>,
    passport_number: Option<String>,
    /// `YYYY-MM-DD` or `DD/MM/YYYY`.
    date_of_birth: Option<String>,
    address: Option<String>,
    city: Option<String>,
    notes: Option<String>,
    source: Option<String>,
    service_type: Option<String>,
    branch_id: Option<Uuid>,
}

/// Seed 2's sales-data field names.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct SalesCustomerDataDoc {
    customer_name: Option<String>,
    customer_surname: Option<String>,
    customer_phone: Option<String>,
    customer_email: Option<String>,
    customer_identification: Option<String>,
    customer_passport: Option<String>,
}

/// Communication preferences.
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct PreferencesDoc {
    /// Of `email`, `sms`, `whatsapp`, `phone_call`.
    channels: Vec<String>,
    /// Of `purchase_confirmation`, `payment_reminder`, `event_reminder`, `promotional`, `system_update`.
    notification_types: Vec<String>,
    contact_window: Option<ContactWindowDoc>,
    /// `es` or `en`.
    language: String,
}

/// Local times between which the customer may be contacted (`end` before `start` spans midnight).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct ContactWindowDoc {
    /// `HH:MM:SS`.
    start: String,
    end: String,
    /// IANA name, e.g. `America/Caracas`.
    time_zone: String,
}

/// A recorded sale (amounts in minor units of `currency`).
#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct SaleDoc {
    id: Uuid,
    organization_id: Uuid,
    customer_id: Uuid,
    branch_id: Option<Uuid>,
    terminal_id: Option<Uuid>,
    lines: Vec<SaleLineDoc>,
    total_minor: i64,
    currency: String,
    /// `cash`, `card`, `mobile_payment`, `transfer`, `zelle`, `other`.
    payment_method: String,
    sold_at: DateTime<Utc>,
}

#[derive(Debug, ToSchema)]
#[allow(dead_code)]
pub struct SaleLineDoc {
    description: String,
    quantity: f64,
    unit_price_minor: i64,
}
