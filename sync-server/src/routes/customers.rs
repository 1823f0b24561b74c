//! Seed 2's customer API (`/api/v1/customers/…`, also under seed 1's `/customers/…`): the list
//! with filters and pages, CRUD with soft delete, and preferences. Handlers parse, call
//! `Customers` or the database, and map errors; `#[utoipa::path]` documents each one.

use super::extract::{ApiJson, ApiQuery, Caller, PathId};
use super::lookup;
use super::openapi::{CustomerInputDoc, PreferencesDoc};
use super::views::{CustomerView, Page};
use crate::db::{CustomerFilter, Ordering};
use crate::error::AppError;
use crate::AppState;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use pos_core::{Action, CustomerInput, ErrorCode, Preferences, Source, ValidationErrors};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::IntoParams;

/// Adds `path` (with its trailing slash, as the seeds write it) and the same path without it.
pub(super) fn both(router: Router<AppState>, path: &str, handler: MethodRouter<AppState>) -> Router<AppState> {
    router.route(path, handler.clone()).route(path.trim_end_matches('/'), handler)
}

/// The customer routes under `prefix` (`/api/v1/customers` or `/customers`).
pub fn routes(prefix: &str) -> Router<AppState> {
    let mut r = Router::new();
    r = both(r, &format!("{prefix}/"), get(list).post(create));
    r = both(r, &format!("{prefix}/search/"), post(lookup::search));
    r = both(r, &format!("{prefix}/lookup/"), post(lookup::lookup));
    r = both(r, &format!("{prefix}/quick-lookup/"), get(lookup::quick_lookup));
    r = both(r, &format!("{prefix}/validate/"), post(lookup::validate));
    r = both(r, &format!("{prefix}/find-or-create/"), post(lookup::find_or_create));
    r = both(r, &format!("{prefix}/{{id}}/"), get(retrieve).put(replace).patch(patch).delete(soft_delete));
    r = both(
        r,
        &format!("{prefix}/{{id}}/preferences/"),
        get(preferences).put(put_preferences).patch(patch_preferences),
    );
    r = both(r, &format!("{prefix}/{{id}}/purchase-history/"), get(lookup::purchase_history));
    both(r, &format!("{prefix}/{{id}}/sales-summary/"), get(lookup::sales_summary))
}

pub const DEFAULT_PAGE_SIZE: u64 = 50;

/// List filters as they arrive (query string or search body), before they are checked.
#[derive(Debug, Default, Deserialize, IntoParams, utoipa::ToSchema)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Any identifier (whole or its start, in any written form) or words of the name.
    pub search: Option<String>,
    /// Same as `search` (the search body's name for it; `q` also works).
    #[serde(alias = "q")]
    pub query: Option<String>,
    /// `true` (default), `false`, or `all`.
    pub is_active: Option<String>,
    /// `POS`, `Manual`, `Lead`, `Booking`, `AreaCustomer`, `Import`, `Webhook`.
    pub source: Option<String>,
    /// Branch id (`branch_id` also works).
    #[serde(alias = "branch_id")]
    pub branch: Option<String>,
    /// Case- and accent-insensitive.
    pub city: Option<String>,
    /// Created at or after: RFC 3339 or `YYYY-MM-DD` (`created_after` also works).
    #[serde(alias = "created_after")]
    pub created_from: Option<String>,
    /// Created before; a date includes that whole day (`created_before` also works).
    #[serde(alias = "created_before")]
    pub created_to: Option<String>,
    /// `-created_at` (default), `created_at`, `surname`, `first_name`, `-updated_at`, `-last_activity`.
    pub ordering: Option<String>,
    /// 1-based.
    pub page: Option<String>,
    /// 1 to 200, default 50.
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

pub(super) async fn page_of(
    state: &AppState,
    caller: Caller,
    uri: &axum::http::Uri,
    params: &ListParams,
) -> Result<Json<Page<CustomerView>>, AppError> {
    caller.require(Action::LookUp)?;
    let filter = params.filter()?;
    let (count, customers) = state.db.list_customers(caller.org, &filter).await?;
    let results = customers.iter().map(CustomerView::from).collect();
    Ok(Json(Page::new(uri, count, filter.page, filter.page_size, results)))
}

/// List customers
///
/// Live customers of the caller's organisation with filters, search and ordering, in seed 1's
/// pages. Soft-deleted customers are listed only with `is_active=false` or `all`.
#[utoipa::path(get, path = "/api/v1/customers/", tag = "customers", params(ListParams),
    responses((status = 200, description = "A page of customers", body = Page<CustomerView>)))]
pub(super) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Page<CustomerView>>, AppError> {
    page_of(&state, caller, &uri, &params).await
}

/// Create a customer
///
/// A strict create: an identifier another customer holds is refused with 409 naming it.
#[utoipa::path(post, path = "/api/v1/customers/", tag = "customers", request_body = CustomerInputDoc,
    responses((status = 201, description = "Created", body = CustomerView),
        (status = 409, description = "An identifier belongs to `existing_id`", body = super::openapi::ErrorBody)))]
pub(super) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<CustomerInput>,
) -> Result<(StatusCode, Json<CustomerView>), AppError> {
    let customer = caller.customers(&state, Action::Capture)?.create(&input).await?;
    Ok((StatusCode::CREATED, Json(customer.into())))
}

/// Get a customer
#[utoipa::path(get, path = "/api/v1/customers/{id}/", tag = "customers", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The customer (a merged-away id answers with its survivor)", body = CustomerView)))]
pub(super) async fn retrieve(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<CustomerView>, AppError> {
    caller.require(Action::LookUp)?;
    let customer = state.db.live_customer(caller.org, id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(customer.into()))
}

/// Replace a customer's fields (manager)
#[utoipa::path(put, path = "/api/v1/customers/{id}/", tag = "customers", params(("id" = Uuid, Path)),
    request_body = CustomerInputDoc,
    responses((status = 200, description = "Updated", body = CustomerView),
        (status = 409, description = "An identifier belongs to `existing_id`", body = super::openapi::ErrorBody)))]
pub(super) async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(input): ApiJson<CustomerInput>,
) -> Result<Json<CustomerView>, AppError> {
    Ok(Json(caller.customers(&state, Action::EditCustomer)?.update(id, &input).await?.into()))
}

/// Change some of a customer's fields (manager)
#[utoipa::path(patch, path = "/api/v1/customers/{id}/", tag = "customers", params(("id" = Uuid, Path)),
    request_body = CustomerInputDoc,
    responses((status = 200, description = "Updated", body = CustomerView),
        (status = 409, description = "An identifier belongs to `existing_id`", body = super::openapi::ErrorBody)))]
pub(super) async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(fields): ApiJson<Map<String, Value>>,
) -> Result<Json<CustomerView>, AppError> {
    Ok(Json(caller.customers(&state, Action::EditCustomer)?.patch(id, &fields).await?.into()))
}

/// Soft-delete a customer (manager)
#[utoipa::path(delete, path = "/api/v1/customers/{id}/", tag = "customers", params(("id" = Uuid, Path)),
    responses((status = 204, description = "Now inactive; the record stays")))]
pub(super) async fn soft_delete(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<StatusCode, AppError> {
    let customers = caller.customers(&state, Action::EditCustomer)?;
    customers.get(id).await?;
    customers.set_active(&[id], false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Get communication preferences
#[utoipa::path(get, path = "/api/v1/customers/{id}/preferences/", tag = "preferences", params(("id" = Uuid, Path)),
    responses((status = 200, description = "The preferences (defaults until set)", body = PreferencesDoc)))]
pub(super) async fn preferences(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<Preferences>, AppError> {
    Ok(Json(caller.customers(&state, Action::LookUp)?.preferences(id).await?))
}

/// Replace communication preferences (manager)
#[utoipa::path(put, path = "/api/v1/customers/{id}/preferences/", tag = "preferences", params(("id" = Uuid, Path)),
    request_body = PreferencesDoc,
    responses((status = 200, description = "Updated", body = PreferencesDoc)))]
pub(super) async fn put_preferences(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(fields): ApiJson<Map<String, Value>>,
) -> Result<Json<Preferences>, AppError> {
    Ok(Json(caller.customers(&state, Action::EditPreferences)?.set_preferences(id, &fields, true).await?))
}

/// Change some communication preferences (manager)
#[utoipa::path(patch, path = "/api/v1/customers/{id}/preferences/", tag = "preferences", params(("id" = Uuid, Path)),
    request_body = PreferencesDoc,
    responses((status = 200, description = "Updated", body = PreferencesDoc)))]
pub(super) async fn patch_preferences(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
    ApiJson(fields): ApiJson<Map<String, Value>>,
) -> Result<Json<Preferences>, AppError> {
    Ok(Json(caller.customers(&state, Action::EditPreferences)?.set_preferences(id, &fields, false).await?))
}
