//! Seed 2's customer API (`/api/v1/customers/…`, also under seed 1's `/customers/…`): list with
//! filters, CRUD with soft delete, preferences, search, lookups, validation, find-or-create,
//! purchase history and sales summary. Handlers parse, call `Customers` or the database, and
//! map errors.

use super::extract::{body_error, ApiJson, ApiQuery, Caller, PathId};
use super::views::{CustomerView, Page};
use crate::auth::Role;
use crate::db::{CustomerFilter, MatchedBy, Ordering};
use crate::error::AppError;
use crate::AppState;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use pos_core::keys::normalize_identification;
use pos_core::validate::validate_customer;
use pos_core::{
    Customer, CustomerInput, ErrorCode, KeyKind, Preferences, Sale, SalesCustomerData, Source, ValidationErrors,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Adds `path` (with its trailing slash, as the seeds write it) and the same path without it.
pub(super) fn both(router: Router<AppState>, path: &str, handler: MethodRouter<AppState>) -> Router<AppState> {
    router.route(path, handler.clone()).route(path.trim_end_matches('/'), handler)
}

/// The customer routes under `prefix` (`/api/v1/customers` or `/customers`).
pub fn routes(prefix: &str) -> Router<AppState> {
    let mut r = Router::new();
    r = both(r, &format!("{prefix}/"), get(list).post(create));
    r = both(r, &format!("{prefix}/search/"), post(search));
    r = both(r, &format!("{prefix}/lookup/"), post(lookup));
    r = both(r, &format!("{prefix}/quick-lookup/"), get(quick_lookup));
    r = both(r, &format!("{prefix}/validate/"), post(validate));
    r = both(r, &format!("{prefix}/find-or-create/"), post(find_or_create));
    r = both(r, &format!("{prefix}/{{id}}/"), get(retrieve).put(replace).patch(patch).delete(soft_delete));
    r = both(
        r,
        &format!("{prefix}/{{id}}/preferences/"),
        get(preferences).put(put_preferences).patch(patch_preferences),
    );
    r = both(r, &format!("{prefix}/{{id}}/purchase-history/"), get(purchase_history));
    both(r, &format!("{prefix}/{{id}}/sales-summary/"), get(sales_summary))
}

pub const DEFAULT_PAGE_SIZE: u64 = 50;

/// List filters as they arrive (query string or search body), before they are checked.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ListParams {
    pub search: Option<String>,
    #[serde(alias = "q")]
    pub query: Option<String>,
    pub is_active: Option<String>,
    pub source: Option<String>,
    #[serde(alias = "branch_id")]
    pub branch: Option<String>,
    pub city: Option<String>,
    #[serde(alias = "created_after")]
    pub created_from: Option<String>,
    #[serde(alias = "created_before")]
    pub created_to: Option<String>,
    pub ordering: Option<String>,
    pub page: Option<String>,
    pub page_size: Option<String>,
}

/// A date-time, or a date meaning its start (`end` = the start of the next day).
fn parse_time(raw: &str, end: bool) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()?;
    let date = if end { date.succ_opt()? } else { date };
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

impl ListParams {
    /// Checks every filter, naming each bad one.
    pub fn filter(&self) -> Result<CustomerFilter, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut bad = |field: &str, code| errors.push(field, code);
        let mut f = CustomerFilter {
            search: self.search.clone().or_else(|| self.query.clone()),
            city: self.city.clone(),
            page: 1,
            page_size: DEFAULT_PAGE_SIZE,
            ..Default::default()
        };
        // Seed 1: soft-deleted customers stay out of lists unless asked for (`all` lists both).
        match self.is_active.as_deref().map(|v| v.trim().to_ascii_lowercase()).as_deref() {
            None | Some("true" | "1" | "yes") => f.is_active = Some(true),
            Some("false" | "0" | "no") => f.is_active = Some(false),
            Some("all" | "any") => f.is_active = None,
            Some(_) => bad("is_active", ErrorCode::InvalidChoice),
        }
        if let Some(v) = self.source.as_deref() {
            match Source::parse(v) {
                Some(s) => f.source = Some(s),
                None => bad("source", ErrorCode::InvalidChoice),
            }
        }
        if let Some(v) = self.branch.as_deref() {
            match v.trim().parse() {
                Ok(b) => f.branch_id = Some(b),
                Err(_) => bad("branch", ErrorCode::InvalidChoice),
            }
        }
        if let Some(v) = self.created_from.as_deref() {
            f.created_from = parse_time(v, false);
            if f.created_from.is_none() {
                bad("created_from", ErrorCode::DateInvalid);
            }
        }
        if let Some(v) = self.created_to.as_deref() {
            f.created_to = parse_time(v, true);
            if f.created_to.is_none() {
                bad("created_to", ErrorCode::DateInvalid);
            }
        }
        if let Some(v) = self.ordering.as_deref() {
            match serde_json::from_value::<Ordering>(Value::String(v.trim().to_owned())) {
                Ok(o) => f.ordering = o,
                Err(_) => bad("ordering", ErrorCode::InvalidChoice),
            }
        }
        for (field, raw, slot) in [("page", &self.page, &mut f.page), ("page_size", &self.page_size, &mut f.page_size)]
        {
            if let Some(v) = raw.as_deref() {
                match v.trim().parse::<u64>() {
                    Ok(n) if n >= 1 && (field == "page" || n <= crate::db::MAX_PAGE_SIZE) => *slot = n,
                    _ => bad(field, ErrorCode::InvalidChoice),
                }
            }
        }
        errors.into_result(f)
    }
}

async fn page_of(
    state: &AppState,
    caller: Caller,
    uri: &axum::http::Uri,
    params: &ListParams,
) -> Result<Json<Page<CustomerView>>, AppError> {
    caller.require(Role::Cashier)?;
    let filter = params.filter()?;
    let (count, customers) = state.db.list_customers(caller.org, &filter).await?;
    let results = customers.iter().map(CustomerView::from).collect();
    Ok(Json(Page::new(uri, count, filter.page, filter.page_size, results)))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Page<CustomerView>>, AppError> {
    page_of(&state, caller, &uri, &params).await
}

/// `POST search/`: the list's filters in a JSON body (`query` or `search` for the text).
async fn search(
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

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<CustomerInput>,
) -> Result<(StatusCode, Json<CustomerView>), AppError> {
    let customer = caller.customers(&state, Role::Cashier)?.create(&input).await?;
    Ok((StatusCode::CREATED, Json(customer.into())))
}

/// A customer by id; an id merged away answers with the customer it became.
async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<CustomerView>, AppError> {
    caller.require(Role::Cashier)?;
    let customer = state.db.live_customer(caller.org, id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(customer.into()))
}

async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(input): ApiJson<CustomerInput>,
) -> Result<Json<CustomerView>, AppError> {
    Ok(Json(caller.customers(&state, Role::Manager)?.update(id, &input).await?.into()))
}

async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(fields): ApiJson<Map<String, Value>>,
) -> Result<Json<CustomerView>, AppError> {
    Ok(Json(caller.customers(&state, Role::Manager)?.patch(id, &fields).await?.into()))
}

/// Soft delete: the customer stays, inactive (204).
async fn soft_delete(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<StatusCode, AppError> {
    let customers = caller.customers(&state, Role::Manager)?;
    customers.get(id).await?;
    customers.set_active(&[id], false).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn preferences(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<Preferences>, AppError> {
    Ok(Json(caller.customers(&state, Role::Cashier)?.preferences(id).await?))
}

async fn put_preferences(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(fields): ApiJson<Map<String, Value>>,
) -> Result<Json<Preferences>, AppError> {
    Ok(Json(caller.customers(&state, Role::Manager)?.set_preferences(id, &fields, true).await?))
}

async fn patch_preferences(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(fields): ApiJson<Map<String, Value>>,
) -> Result<Json<Preferences>, AppError> {
    Ok(Json(caller.customers(&state, Role::Manager)?.set_preferences(id, &fields, false).await?))
}

#[derive(Debug, Deserialize)]
struct LookupRequest {
    identification: String,
}

/// `POST lookup/`: the customer holding a cédula or RIF, typed any way.
async fn lookup(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<LookupRequest>,
) -> Result<Json<CustomerView>, AppError> {
    caller.require(Role::Cashier)?;
    let key = normalize_identification(&req.identification)
        .map_err(|code| AppError::Invalid(ValidationErrors::one("identification", code)))?;
    let keys = pos_core::MatchKeys { identification: Some(key.clone()), ..Default::default() };
    let mut hit = state.db.key_hits(caller.org, &keys, None).await?.identification;
    if hit.is_none() && req.identification.trim().starts_with(|c: char| c.is_ascii_digit()) {
        // A bare number may be a foreign resident's E cédula.
        let keys = pos_core::MatchKeys { identification: Some(key.replacen("V-", "E-", 1)), ..Default::default() };
        hit = state.db.key_hits(caller.org, &keys, None).await?.identification;
    }
    let id = hit.ok_or(AppError::NotFound)?;
    Ok(Json(state.db.live_customer(caller.org, id).await?.ok_or(AppError::NotFound)?.into()))
}

#[derive(Debug, Deserialize)]
struct QuickLookupQuery {
    #[serde(default)]
    q: String,
    limit: Option<u64>,
}

#[derive(Debug, Serialize)]
struct LookupHit {
    #[serde(flatten)]
    customer: CustomerView,
    matched_by: MatchedBy,
}

/// `GET quick-lookup/?q=`: any identifier in any written form, its start, or a name.
async fn quick_lookup(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<QuickLookupQuery>,
) -> Result<Json<Value>, AppError> {
    if q.q.trim().is_empty() {
        return Err(AppError::Invalid(ValidationErrors::one("q", ErrorCode::Required)));
    }
    let hits = caller.customers(&state, Role::Cashier)?.quick_lookup(&q.q, q.limit.unwrap_or(20)).await?;
    let results: Vec<LookupHit> =
        hits.into_iter().map(|(c, matched_by)| LookupHit { customer: c.into(), matched_by }).collect();
    Ok(Json(json!({ "count": results.len(), "results": results })))
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

/// `POST validate/`: whether the data would be accepted for a sale, every field error at once,
/// and the normalised values.
async fn validate(
    State(_state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, AppError> {
    caller.require(Role::Cashier)?;
    let input = customer_input(body)?;
    Ok(Json(match validate_customer(&input, Utc::now().date_naive()) {
        Ok(valid) => json!({ "is_valid": true, "errors": {}, "normalized": valid }),
        Err(errors) => {
            let mut by_field: BTreeMap<String, Vec<Value>> = BTreeMap::new();
            for e in &errors.0 {
                by_field.entry(e.field.clone()).or_default().push(serde_json::to_value(e).expect("errors serialise"));
            }
            json!({ "is_valid": false, "errors": by_field, "normalized": Value::Null })
        }
    }))
}

/// `POST find-or-create/`: seed 2's sales-data fields → the customer and whether it was created
/// (201) or found (200).
async fn find_or_create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Response, AppError> {
    let input = customer_input(body)?;
    let done = caller.customers(&state, Role::Cashier)?.find_or_create(&input, true).await?;
    let status = if done.created { StatusCode::CREATED } else { StatusCode::OK };
    let body = json!({
        "customer": CustomerView::from(&done.customer),
        "created": done.created,
        "matched_by": done.matched_by.map(KeyKind::field),
        "reactivated": done.reactivated,
        "possible_duplicates": done.possible_duplicates.iter()
            .map(|c| json!({"customer_id": c.other, "key": c.key.field()})).collect::<Vec<_>>(),
    });
    Ok((status, Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
struct HistoryQuery {
    page: Option<u64>,
    page_size: Option<u64>,
}

async fn customer_sales(state: &AppState, caller: Caller, id: Uuid) -> Result<(Customer, Vec<Sale>), AppError> {
    let customer = caller.customers(state, Role::Cashier)?.get(id).await?;
    let sales = state.db.sales_of(caller.org, id).await?;
    Ok((customer, sales))
}

/// `GET {id}/purchase-history/`: the customer's sales, newest first, in pages.
async fn purchase_history(
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
    let results = sales.into_iter().skip(((page - 1) * size) as usize).take(size as usize).collect();
    Ok(Json(Page::new(&uri, count, page, size, results)))
}

/// Totals of one currency.
#[derive(Debug, Default, Serialize)]
struct CurrencyTotal {
    purchases: u64,
    total_minor: i64,
    average_minor: i64,
}

/// `GET {id}/sales-summary/`: purchases, totals and averages per currency, first and last.
async fn sales_summary(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<Value>, AppError> {
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
    Ok(Json(json!({
        "customer_id": customer.id,
        "total_purchases": sales.len(),
        "by_currency": by_currency,
        "first_purchase": sales.iter().map(|s| s.sold_at).min(),
        "last_purchase": sales.iter().map(|s| s.sold_at).max(),
    })))
}
