//! Seed 1's manual add and auto-collection, and the back office's bulk (de)activation, stats,
//! review items and explicit merge — all under the same prefixes as the customer routes.

use super::extract::{ApiJson, ApiQuery, Caller, PathId};
use super::paths::both;
use super::schemas::CustomerInputDoc;
use super::views::{
    AutoCollection, AutoCollectionRun, CustomerView, Dismissed, ManualAddResult, MergeView, ReviewItemView, ReviewItems,
};
use crate::customer_writes::BulkResult;
use crate::db::{CustomerStats, ReviewStatus};
use crate::error::AppError;
use crate::metrics::METRICS;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, Utc};
use pos_core::{Action, CustomerInput, ErrorCode, KeyKind, Source, ValidationErrors};
use serde::Deserialize;
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Most ids one bulk request may name.
pub const MAX_BULK: usize = 1_000;

pub fn routes(prefix: &str) -> Router<AppState> {
    let mut r = Router::new();
    r = both(r, &format!("{prefix}/manual-add/"), post(manual_add));
    r = both(r, &format!("{prefix}/auto-collection/"), get(auto_collection).post(run_auto_collection));
    r = both(r, &format!("{prefix}/bulk-activate/"), post(bulk_activate));
    r = both(r, &format!("{prefix}/bulk-deactivate/"), post(bulk_deactivate));
    r = both(r, &format!("{prefix}/stats/"), get(stats));
    r = both(r, &format!("{prefix}/review-items/"), get(review_items));
    r = both(r, &format!("{prefix}/review-items/{{id}}/dismiss/"), post(dismiss_review_item));
    both(r, &format!("{prefix}/merge/"), post(merge))
}

/// Seed 1's manual add
///
/// The upsert (phone → email → passport, then cédula): a new customer answers 201; an existing
/// one 200 with `created: false` and the key that matched (blanks filled, reactivated).
/// `organization` in the body is ignored: it comes from the credential.
#[utoipa::path(post, path = "/api/v1/customers/manual-add/", tag = "seed1", request_body = CustomerInputDoc,
    responses((status = 201, description = "Created", body = ManualAddResult),
        (status = 200, description = "An existing customer matched", body = ManualAddResult)))]
pub(super) async fn manual_add(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(mut input): ApiJson<CustomerInput>,
) -> Result<(StatusCode, Json<ManualAddResult>), AppError> {
    input.source.get_or_insert_with(|| Source::Manual.as_str().to_owned());
    let done = caller.customers(&state, Action::Capture)?.find_or_create(&input, true).await?;
    let status = if done.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((
        status,
        Json(ManualAddResult {
            customer: CustomerView::from(&done.customer),
            created: done.created,
            matched_by: done.matched_by.map(|k| KeyKind::field(k).to_owned()),
        }),
    ))
}

/// Seed 1's auto-collection list
///
/// Every active customer of the organisation.
#[utoipa::path(get, path = "/api/v1/customers/auto-collection/", tag = "seed1",
    responses((status = 200, description = "Active customers", body = AutoCollection)))]
pub(super) async fn auto_collection(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<AutoCollection>, AppError> {
    caller.require(Action::LookUp)?;
    let mut customers = Vec::new();
    let mut page = 1;
    loop {
        let filter = crate::db::CustomerFilter {
            is_active: Some(true),
            ordering: crate::db::Ordering::CreatedAt,
            page,
            page_size: crate::db::MAX_PAGE_SIZE,
            ..Default::default()
        };
        let (count, batch) = state.db.list_customers(caller.org, &filter).await?;
        customers.extend(batch.iter().map(CustomerView::from));
        if customers.len() as u64 >= count || batch.is_empty() {
            break;
        }
        page += 1;
    }
    Ok(Json(AutoCollection { total_customers: customers.len(), customers }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct CutoffRequest {
    /// Days back to scan (1 to 3,650, default 30).
    #[serde(default = "default_cutoff")]
    cutoff_days: i64,
}

fn default_cutoff() -> i64 {
    30
}

/// Seed 1's auto-collection scan (manager)
///
/// Scans the organisation's sales of the last `cutoff_days` (the customer source this server
/// holds) and brings each buyer up to date — last activity moved to its latest purchase, a
/// soft-deleted buyer active again — through the same write path as every other change.
/// Every sale here already names a customer, so `created` stays 0 until a source without
/// customer records (leads, bookings) lands on this server.
#[utoipa::path(post, path = "/api/v1/customers/auto-collection/", tag = "seed1", request_body = CutoffRequest,
    responses((status = 200, description = "Counts", body = AutoCollectionRun)))]
pub(super) async fn run_auto_collection(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CutoffRequest>,
) -> Result<Json<AutoCollectionRun>, AppError> {
    let customers = caller.customers(&state, Action::BulkActions)?;
    if !(1..=3650).contains(&req.cutoff_days) {
        return Err(AppError::Invalid(ValidationErrors::one("cutoff_days", ErrorCode::InvalidChoice)));
    }
    let since = Utc::now() - Duration::days(req.cutoff_days);
    let mut latest: BTreeMap<Uuid, chrono::DateTime<Utc>> = BTreeMap::new();
    for sale in state.db.sales_since(caller.org, since).await? {
        let at = latest.entry(sale.customer_id).or_insert(sale.sold_at);
        *at = (*at).max(sale.sold_at);
    }
    let mut updated = 0u64;
    for (buyer, sold_at) in latest {
        if let Some(c) = state.db.live_customer(caller.org, buyer).await? {
            if customers.touch_activity(&c, sold_at).await? {
                updated += 1;
            }
        }
    }
    Ok(Json(AutoCollectionRun { created: 0, updated }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct BulkRequest {
    /// 1 to 1,000 customer ids; unknown ones are counted as `not_found`.
    ids: Vec<Uuid>,
}

async fn bulk(state: &AppState, caller: Caller, req: BulkRequest, active: bool) -> Result<Json<BulkResult>, AppError> {
    let customers = caller.customers(state, Action::BulkActions)?;
    if req.ids.is_empty() || req.ids.len() > MAX_BULK {
        return Err(AppError::Invalid(ValidationErrors::one("ids", ErrorCode::InvalidChoice)));
    }
    let done = customers.set_active(&req.ids, active).await?;
    Ok(Json(done))
}

/// Activate customers (manager)
#[utoipa::path(post, path = "/api/v1/customers/bulk-activate/", tag = "back office", request_body = BulkRequest,
    responses((status = 200, description = "Counts", body = BulkResult)))]
pub(super) async fn bulk_activate(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<BulkRequest>,
) -> Result<Json<BulkResult>, AppError> {
    bulk(&state, caller, req, true).await
}

/// Deactivate customers (manager)
#[utoipa::path(post, path = "/api/v1/customers/bulk-deactivate/", tag = "back office", request_body = BulkRequest,
    responses((status = 200, description = "Counts", body = BulkResult)))]
pub(super) async fn bulk_deactivate(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<BulkRequest>,
) -> Result<Json<BulkResult>, AppError> {
    bulk(&state, caller, req, false).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct StatsQuery {
    /// Days of new customers per day (1 to 3,650, default 30).
    days: Option<i64>,
}

/// Customer statistics (manager)
///
/// Totals by source, branch and active flag; new customers per day over `days` (default 30).
#[utoipa::path(get, path = "/api/v1/customers/stats/", tag = "back office", params(StatsQuery),
    responses((status = 200, description = "Totals", body = CustomerStats)))]
pub(super) async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> Result<Json<CustomerStats>, AppError> {
    caller.require(Action::SeeStats)?;
    let days = q.days.unwrap_or(30);
    if !(1..=3650).contains(&days) {
        return Err(AppError::Invalid(ValidationErrors::one("days", ErrorCode::InvalidChoice)));
    }
    let since = (Utc::now() - Duration::days(days - 1)).date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    Ok(Json(state.db.customer_stats(caller.org, since).await?))
}

/// Open review items (manager)
///
/// Pairs of customers that may be the same person, with both customers.
#[utoipa::path(get, path = "/api/v1/customers/review-items/", tag = "back office",
    responses((status = 200, description = "Open items, oldest first", body = ReviewItems)))]
pub(super) async fn review_items(State(state): State<AppState>, caller: Caller) -> Result<Json<ReviewItems>, AppError> {
    caller.require(Action::ReviewDuplicates)?;
    let mut results = Vec::new();
    for item in state.db.open_review_items(caller.org).await? {
        let a = state.db.customer(caller.org, item.customer_a).await?;
        let b = state.db.customer(caller.org, item.customer_b).await?;
        results.push(ReviewItemView {
            id: item.id,
            match_key: item.match_key,
            created_at: item.created_at,
            customer_a: a.as_ref().map(CustomerView::from),
            customer_b: b.as_ref().map(CustomerView::from),
        });
    }
    Ok(Json(ReviewItems { count: results.len(), results }))
}

/// Dismiss a review item (manager)
#[utoipa::path(post, path = "/api/v1/customers/review-items/{id}/dismiss/", tag = "back office",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Dismissed", body = Dismissed)))]
pub(super) async fn dismiss_review_item(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<Dismissed>, AppError> {
    caller.require(Action::ReviewDuplicates)?;
    if !state.db.close_review_item(caller.org, id, ReviewStatus::Dismissed, caller.actor).await? {
        return Err(AppError::NotFound);
    }
    METRICS.record_review_dismissed();
    Ok(Json(Dismissed { id, status: "dismissed".into() }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub(super) struct MergeRequest {
    /// The customer that stays.
    survivor: Uuid,
    /// The customer merged into it (kept as a tombstone).
    loser: Uuid,
}

/// Merge two customers (manager)
///
/// The loser's sales and preferences move to the survivor, its blanks fill the survivor's, it
/// stays as a tombstone with `merged_into` (terminals learn the remap on their next pull),
/// review items between the two close, and the merge is logged with who and when.
#[utoipa::path(post, path = "/api/v1/customers/merge/", tag = "back office", request_body = MergeRequest,
    responses((status = 200, description = "Merged", body = MergeView)))]
pub(super) async fn merge(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<MergeRequest>,
) -> Result<Json<MergeView>, AppError> {
    caller.require(Action::ReviewDuplicates)?;
    if req.survivor == req.loser {
        return Err(AppError::Invalid(ValidationErrors::one("loser", ErrorCode::InvalidChoice)));
    }
    let done = state
        .db
        .merge_customers(caller.org, req.survivor, req.loser, caller.actor, &state.clock)
        .await?
        .ok_or(AppError::NotFound)?;
    METRICS.record_explicit_merge();
    Ok(Json(MergeView {
        survivor: CustomerView::from(&done.survivor),
        loser: CustomerView::from(&done.loser),
        sales_repointed: done.sales_repointed,
    }))
}
