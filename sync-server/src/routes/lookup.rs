//! Seed 2's search and sales integration: search, lookup by cédula, quick lookup, validation,
//! find-or-create, purchase history and sales summary.

use super::extract::{body_error, ApiJson, ApiQuery, Caller, PathId};
use super::paging::{page_of, ListParams, DEFAULT_PAGE_SIZE};
use super::paths::both;
use super::schemas::{CustomerInputDoc, SaleDoc};
use super::views::{
    CurrencyTotal, CustomerView, FindOrCreateResult, LookupHit, LookupHits, Page, PossibleDuplicate, SalesSummary,
    ValidationResult,
};
use crate::error::{field_error_map, AppError};
use crate::AppState;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use pos_core::lookup::identification_candidates;
use pos_core::validate::validate_customer;
use pos_core::{
    Action, Customer, CustomerInput, ErrorCode, KeyKind, MatchKeys, Sale, SalesCustomerData, ValidationErrors,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Seed 2's search and sales routes under `prefix`.
pub fn routes(prefix: &str) -> Router<AppState> {
    let mut r = Router::new();
    r = both(r, &format!("{prefix}/search/"), post(search));
    r = both(r, &format!("{prefix}/lookup/"), post(lookup));
    r = both(r, &format!("{prefix}/quick-lookup/"), get(quick_lookup));
    r = both(r, &format!("{prefix}/validate/"), post(validate));
    r = both(r, &format!("{prefix}/find-or-create/"), post(find_or_create));
    r = both(r, &format!("{prefix}/{{id}}/purchase-history/"), get(purchase_history));
    both(r, &format!("{prefix}/{{id}}/sales-summary/"), get(sales_summary))
}

/// Search customers
///
/// The list's filters in a JSON body (`query` or `search` for the text), answered as a page.
#[utoipa::path(post, path = "/api/v1/customers/search/", tag = "search", request_body = ListParams,
    responses((status = 200, description = "A page of customers", body = Page<CustomerView>)))]
pub(super) async fn search(
    State(state): State<AppState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<Page<CustomerView>>, AppError> {
    // Every filter is text in a query string; read JSON numbers and booleans the same way.
    let as_text: Map<String, Value> = body
        .into_iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            (k, Value::String(text))
        })
        .collect();
    let params: ListParams = serde_json::from_value(Value::Object(as_text))
        .map_err(|e| AppError::BadRequest(format!("the body does not fit: {e}")))?;
    page_of(&state, caller, &uri, &params).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct LookupRequest {
    /// A cédula or RIF in any written form (`v12.345.678`, `J-12345678-9`).
    identification: String,
}

/// Look a customer up by identification
#[utoipa::path(post, path = "/api/v1/customers/lookup/", tag = "search", request_body = LookupRequest,
    responses((status = 200, description = "The customer holding it", body = CustomerView)))]
pub(super) async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<LookupRequest>,
) -> Result<Json<CustomerView>, AppError> {
    caller.require(Action::LookUp)?;
    let candidates = identification_candidates(&req.identification)
        .map_err(|code| AppError::Invalid(ValidationErrors::one("identification", code)))?;
    for identification in candidates {
        let keys = MatchKeys { identification: Some(identification), ..Default::default() };
        if let Some(id) = state.db.key_hits(caller.org, &keys, None).await?.identification {
            return Ok(Json(state.db.live_customer(caller.org, id).await?.ok_or(AppError::NotFound)?.into()));
        }
    }
    Err(AppError::NotFound)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct QuickLookupQuery {
    /// Whatever was typed: a cédula, phone, email or passport in any written form, its start,
    /// or words of a name.
    #[serde(default)]
    q: String,
    /// At most this many results (default 20, at most 200).
    limit: Option<u64>,
}

/// Quick lookup by any identifier or name
///
/// A whole identifier answers alone; otherwise identifier prefixes, then names (accent- and
/// case-insensitive). Inactive customers are included.
#[utoipa::path(get, path = "/api/v1/customers/quick-lookup/", tag = "search", params(QuickLookupQuery),
    responses((status = 200, description = "Matches, best first", body = LookupHits)))]
pub(super) async fn quick_lookup(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<QuickLookupQuery>,
) -> Result<Json<LookupHits>, AppError> {
    let customers = caller.customers(&state, Action::LookUp)?;
    if q.q.trim().is_empty() {
        return Err(AppError::Invalid(ValidationErrors::one("q", ErrorCode::Required)));
    }
    let hits = customers.quick_lookup(&q.q, q.limit.unwrap_or(20)).await?;
    let results: Vec<LookupHit> =
        hits.into_iter().map(|(c, matched_by)| LookupHit { customer: c.into(), matched_by }).collect();
    Ok(Json(LookupHits { count: results.len(), results }))
}

/// Customer data in seed 2's own field names or in its sales-data ones (`customer_name`, …).
fn customer_input(body: Map<String, Value>) -> Result<CustomerInput, AppError> {
    let sales = body.keys().any(|k| k.starts_with("customer_"));
    let value = Value::Object(body);
    let parsed = if sales {
        serde_json::from_value::<SalesCustomerData>(value.clone()).map(CustomerInput::from)
    } else {
        serde_json::from_value::<CustomerInput>(value.clone())
    };
    parsed.map_err(|e| {
        if sales {
            body_error::<SalesCustomerData>(&value, &e)
        } else {
            body_error::<CustomerInput>(&value, &e)
        }
    })
}

/// Validate customer data for a sale
///
/// Every field error at once, or the normalised values. Accepts seed 2's field names or its
/// sales-data names (`customer_name`, `customer_phone`, …). Writes nothing.
#[utoipa::path(post, path = "/api/v1/customers/validate/", tag = "sales", request_body = CustomerInputDoc,
    responses((status = 200, description = "Whether the data is valid", body = ValidationResult)))]
pub(super) async fn validate(
    caller: Caller,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<ValidationResult>, AppError> {
    caller.require(Action::LookUp)?;
    let input = customer_input(body)?;
    Ok(Json(match validate_customer(&input, Utc::now().date_naive()) {
        Ok(valid) => ValidationResult { is_valid: true, errors: Default::default(), normalized: Some(valid) },
        Err(errors) => ValidationResult { is_valid: false, errors: field_error_map(&errors), normalized: None },
    }))
}

/// Find or create a customer from sales data
///
/// Seed 2's sales-data fields (`customer_name`, `customer_surname`, `customer_phone`,
/// `customer_email`, `customer_identification`, `customer_passport`). The dedupe rule: phone →
/// email → passport → cédula; a hit merges the data into that customer (blanks filled) and
/// reactivates it; keys of other customers open review items.
#[utoipa::path(post, path = "/api/v1/customers/find-or-create/", tag = "sales", request_body = super::schemas::SalesCustomerDataDoc,
    responses((status = 200, description = "Found", body = FindOrCreateResult),
        (status = 201, description = "Created", body = FindOrCreateResult)))]
pub(super) async fn find_or_create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<(StatusCode, Json<FindOrCreateResult>), AppError> {
    let input = customer_input(body)?;
    let done = caller.customers(&state, Action::Capture)?.find_or_create(&input, true).await?;
    let status = if done.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((
        status,
        Json(FindOrCreateResult {
            customer: CustomerView::from(&done.customer),
            created: done.created,
            matched_by: done.matched_by.map(|k| KeyKind::field(k).to_owned()),
            reactivated: done.reactivated,
            possible_duplicates: done
                .possible_duplicates
                .iter()
                .map(|c| PossibleDuplicate { customer_id: c.other, key: c.key.field().to_owned() })
                .collect(),
        }),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct HistoryQuery {
    /// 1-based.
    page: Option<u64>,
    /// 1 to 200, default 50.
    page_size: Option<u64>,
}

async fn customer_sales(state: &AppState, caller: Caller, id: Uuid) -> Result<(Customer, Vec<Sale>), AppError> {
    let customer = caller.customers(state, Action::LookUp)?.get(id).await?;
    let sales = state.db.sales_of(caller.org, id).await?;
    Ok((customer, sales))
}

/// A customer's purchase history
///
/// Sales recorded for the customer (by any terminal), newest first, in pages.
#[utoipa::path(get, path = "/api/v1/customers/{id}/purchase-history/", tag = "sales",
    params(("id" = Uuid, Path), HistoryQuery),
    responses((status = 200, description = "A page of sales", body = Page<SaleDoc>)))]
pub(super) async fn purchase_history(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    OriginalUri(uri): OriginalUri,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> Result<Json<Page<Sale>>, AppError> {
    let (_, sales) = customer_sales(&state, caller, id).await?;
    let page = q.page.unwrap_or(1).max(1);
    let size = q.page_size.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, crate::db::MAX_PAGE_SIZE);
    let count = sales.len() as u64;
    let skip = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
    let results = sales.into_iter().skip(skip).take(size as usize).collect();
    Ok(Json(Page::new(&uri, count, page, size, results)))
}

/// A customer's sales summary
///
/// Purchases, totals and averages per currency (minor units), first and last purchase.
#[utoipa::path(get, path = "/api/v1/customers/{id}/sales-summary/", tag = "sales", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The summary", body = SalesSummary)))]
pub(super) async fn sales_summary(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<SalesSummary>, AppError> {
    let (customer, sales) = customer_sales(&state, caller, id).await?;
    let mut by_currency: BTreeMap<String, CurrencyTotal> = BTreeMap::new();
    for sale in &sales {
        let t = by_currency.entry(sale.currency.clone()).or_default();
        t.purchases += 1;
        t.total_minor = t.total_minor.saturating_add(sale.total_minor);
    }
    for t in by_currency.values_mut() {
        t.average_minor = t.total_minor / t.purchases.max(1) as i64;
    }
    Ok(Json(SalesSummary {
        customer_id: customer.id,
        total_purchases: sales.len(),
        by_currency,
        first_purchase: sales.iter().map(|s| s.sold_at).min(),
        last_purchase: sales.iter().map(|s| s.sold_at).max(),
    }))
}
