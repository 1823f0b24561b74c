//! Seed 2's customer API (`/api/v1/customers/…`, also under seed 1's `/customers/…`): the list
//! with filters and pages, CRUD with soft delete, and preferences. Handlers parse, call
//! `Customers` or the database, and map errors; `#[utoipa::path]` documents each one.

use super::extract::{ApiJson, ApiQuery, Caller, PathId};
use super::paging::{page_of, ListParams};
use super::paths::both;
use super::schemas::{CustomerInputDoc, PreferencesDoc};
use super::views::{CustomerView, Page};
use crate::error::AppError;
use crate::AppState;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use pos_core::{Action, CustomerInput, Preferences};
use serde_json::{Map, Value};

/// The customer record routes under `prefix` (`/api/v1/customers` or `/customers`): the list,
/// one customer, its preferences.
pub fn routes(prefix: &str) -> Router<AppState> {
    let mut r = Router::new();
    r = both(r, &format!("{prefix}/"), get(list).post(create));
    r = both(r, &format!("{prefix}/{{id}}/"), get(retrieve).put(replace).patch(patch).delete(soft_delete));
    both(r, &format!("{prefix}/{{id}}/preferences/"), get(preferences).put(put_preferences).patch(patch_preferences))
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
        (status = 409, description = "An identifier belongs to `existing_id`", body = super::schemas::ErrorBody)))]
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
        (status = 409, description = "An identifier belongs to `existing_id`", body = super::schemas::ErrorBody)))]
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
        (status = 409, description = "An identifier belongs to `existing_id`", body = super::schemas::ErrorBody)))]
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
