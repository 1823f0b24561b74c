//! The JSON shapes the customer API answers with: seed 1's customer object (with seed 2's
//! fields beside it), its `{count, next, previous, results}` page, and the answers of the
//! other endpoints. Handlers serialise these types and `/openapi.json` describes them, so the
//! document cannot drift from the answers.

use axum::http::Uri;
use chrono::{DateTime, NaiveDate, Utc};
use pos_core::{Customer, Source};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// A customer as the API shows it: seed 1's fields (`full_name`, `branch`, `organization`, …)
/// and seed 2's (`name`, `surname`, `identification`, …).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CustomerView {
    pub id: Uuid,
    pub full_name: String,
    pub name: String,
    pub surname: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub identification: Option<String>,
    pub passport_number: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub notes: Option<String>,
    /// `POS`, `Manual`, `Lead`, `Booking`, `AreaCustomer`, `Import` or `Webhook`.
    #[schema(value_type = String)]
    pub source: Source,
    pub service_type: Option<String>,
    pub branch: Option<Uuid>,
    pub organization: Uuid,
    pub is_active: bool,
    pub last_activity: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<Uuid>,
}

impl From<&Customer> for CustomerView {
    fn from(c: &Customer) -> Self {
        CustomerView {
            id: c.id,
            full_name: c.full_name(),
            name: c.first_name.clone(),
            surname: c.surname.clone(),
            phone: c.phone.clone(),
            email: c.email.clone(),
            identification: c.identification.clone(),
            passport_number: c.passport_number.clone(),
            date_of_birth: c.date_of_birth,
            address: c.address.clone(),
            city: c.city.clone(),
            notes: c.notes.clone(),
            source: c.source,
            service_type: c.service_type.clone(),
            branch: c.branch_id,
            organization: c.organization_id,
            is_active: c.is_active,
            last_activity: c.last_activity,
            created_at: c.created_at,
            updated_at: c.updated_at,
            merged_into: c.merged_into,
        }
    }
}

impl From<Customer> for CustomerView {
    fn from(c: Customer) -> Self {
        CustomerView::from(&c)
    }
}

/// Seed 1's paginated list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub count: u64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<T>,
}

/// `uri` with its `page` query parameter set to `page`.
fn with_page(uri: &Uri, page: u64) -> String {
    let mut pairs: Vec<String> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("page="))
        .map(str::to_owned)
        .collect();
    pairs.push(format!("page={page}"));
    format!("{}?{}", uri.path(), pairs.join("&"))
}

impl<T> Page<T> {
    /// A page of `results` out of `count`, with links relative to the request `uri`.
    pub fn new(uri: &Uri, count: u64, page: u64, page_size: u64, results: Vec<T>) -> Self {
        let next = (page.saturating_mul(page_size) < count).then(|| with_page(uri, page + 1));
        let previous = (page > 1).then(|| with_page(uri, page - 1));
        Page { count, next, previous, results }
    }
}

/// Seed 1's manual add: the customer object, whether it was created, and which key found it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ManualAddResult {
    #[serde(flatten)]
    pub customer: CustomerView,
    pub created: bool,
    /// `phone`, `email`, `passport_number` or `identification`; null when created.
    pub matched_by: Option<String>,
}

/// Another customer sharing a key with the input; a review item was opened for the pair.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PossibleDuplicate {
    pub customer_id: Uuid,
    pub key: String,
}

/// Seed 2's find-or-create.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FindOrCreateResult {
    pub customer: CustomerView,
    pub created: bool,
    pub matched_by: Option<String>,
    pub reactivated: bool,
    pub possible_duplicates: Vec<PossibleDuplicate>,
}

/// One quick-lookup result: the customer and how it was found.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LookupHit {
    #[serde(flatten)]
    pub customer: CustomerView,
    /// `{"kind": "exact" | "prefix", "key": "<key field>"}` or `{"kind": "name"}`.
    #[schema(value_type = Object)]
    pub matched_by: crate::db::MatchedBy,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LookupHits {
    pub count: usize,
    pub results: Vec<LookupHit>,
}

/// Seed 2's validation answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValidationResult {
    pub is_valid: bool,
    /// Field → its errors (empty when valid).
    pub errors: crate::error::FieldErrorMap,
    /// The normalised values when valid (seed 2's field names with `first_name`).
    #[schema(value_type = Option<Object>)]
    pub normalized: Option<pos_core::ValidCustomer>,
}

/// Totals of one currency in a sales summary (amounts in minor units).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct CurrencyTotal {
    pub purchases: u64,
    pub total_minor: i64,
    pub average_minor: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SalesSummary {
    pub customer_id: Uuid,
    pub total_purchases: usize,
    pub by_currency: BTreeMap<String, CurrencyTotal>,
    pub first_purchase: Option<DateTime<Utc>>,
    pub last_purchase: Option<DateTime<Utc>>,
}

/// Seed 1's `GET auto-collection/`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AutoCollection {
    pub total_customers: usize,
    pub customers: Vec<CustomerView>,
}

/// Seed 1's `POST auto-collection/`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AutoCollectionRun {
    pub created: u64,
    pub updated: u64,
}

/// An open review item with both customers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewItemView {
    pub id: Uuid,
    /// The key field both customers hold (`email`, `passport_number`, …).
    pub match_key: String,
    pub created_at: String,
    pub customer_a: Option<CustomerView>,
    pub customer_b: Option<CustomerView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReviewItems {
    pub count: usize,
    pub results: Vec<ReviewItemView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Dismissed {
    pub id: Uuid,
    pub status: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MergeView {
    pub survivor: CustomerView,
    /// The tombstone: `merged_into` is the survivor.
    pub loser: CustomerView,
    pub sales_repointed: u64,
}
