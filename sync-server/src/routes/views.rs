//! The JSON shapes the customer API answers with: seed 1's customer object (with seed 2's
//! fields beside it) and its `{count, next, previous, results}` page.

use axum::http::Uri;
use chrono::{DateTime, NaiveDate, Utc};
use pos_core::{Customer, Source};
use serde::Serialize;
use uuid::Uuid;

/// A customer as the API shows it: seed 1's fields (`full_name`, `branch`, `organization`, …)
/// and seed 2's (`name`, `surname`, `identification`, …).
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
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
