//! Seed 1's manual add and auto-collection, and the back office's bulk (de)activation, stats,
//! review items and explicit merge — all under the same prefixes as the customer routes.

use super::customers::both;
use super::extract::{ApiJson, ApiQuery, Caller, PathId};
use super::views::CustomerView;
use crate::auth::Role;
use crate::db::ReviewStatus;
use crate::error::AppError;
use crate::metrics::METRICS;
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, Utc};
use pos_core::{CustomerInput, ErrorCode, KeyKind, Source, ValidationErrors};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;
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

/// Seed 1's `POST manual-add/`: the upsert (phone → email → passport, then cédula). A new
/// customer answers 201; an existing one 200 with `created: false` and the key that matched.
async fn manual_add(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(mut input): ApiJson<CustomerInput>,
) -> Result<Response, AppError> {
    input.source.get_or_insert_with(|| Source::Manual.as_str().to_owned());
    let done = caller.customers(&state, Role::Cashier)?.find_or_create(&input, true).await?;
    let mut body = serde_json::to_value(CustomerView::from(&done.customer)).expect("views serialise");
    body["created"] = json!(done.created);
    body["matched_by"] = json!(done.matched_by.map(KeyKind::field));
    let status = if done.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(body)).into_response())
}

/// Seed 1's `GET auto-collection/`: every active customer of the organisation.
async fn auto_collection(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, AppError> {
    caller.require(Role::Cashier)?;
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
    Ok(Json(json!({ "total_customers": customers.len(), "customers": customers })))
}

#[derive(Debug, Deserialize)]
struct CutoffRequest {
    #[serde(default = "default_cutoff")]
    cutoff_days: i64,
}

fn default_cutoff() -> i64 {
    30
}

/// Seed 1's `POST auto-collection/`: scans the organisation's sales of the last `cutoff_days`
/// (the customer source this server holds) and brings each buyer up to date — last activity
/// moved to its latest purchase, a soft-deleted buyer active again — through the same write
/// path as every other change. Every sale this server holds already names a customer, so
/// `created` stays 0 until a source without customer records (leads, bookings) lands here.
async fn run_auto_collection(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CutoffRequest>,
) -> Result<Json<Value>, AppError> {
    let customers = caller.customers(&state, Role::Manager)?;
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
    Ok(Json(json!({ "created": 0, "updated": updated })))
}

#[derive(Debug, Deserialize)]
struct BulkRequest {
    ids: Vec<Uuid>,
}

async fn bulk(state: &AppState, caller: Caller, req: BulkRequest, active: bool) -> Result<Json<Value>, AppError> {
    let customers = caller.customers(state, Role::Manager)?;
    if req.ids.is_empty() || req.ids.len() > MAX_BULK {
        return Err(AppError::Invalid(ValidationErrors::one("ids", ErrorCode::InvalidChoice)));
    }
    let done = customers.set_active(&req.ids, active).await?;
    Ok(Json(serde_json::to_value(done).expect("counts serialise")))
}

async fn bulk_activate(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<BulkRequest>,
) -> Result<Json<Value>, AppError> {
    bulk(&state, caller, req, true).await
}

async fn bulk_deactivate(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<BulkRequest>,
) -> Result<Json<Value>, AppError> {
    bulk(&state, caller, req, false).await
}

#[derive(Debug, Deserialize)]
struct StatsQuery {
    days: Option<i64>,
}

/// Totals by source, branch and active flag; new customers per day over `days` (30).
async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<StatsQuery>,
) -> Result<Json<crate::db::CustomerStats>, AppError> {
    caller.require(Role::Manager)?;
    let days = q.days.unwrap_or(30);
    if !(1..=3650).contains(&days) {
        return Err(AppError::Invalid(ValidationErrors::one("days", ErrorCode::InvalidChoice)));
    }
    let since = (Utc::now() - Duration::days(days - 1)).date_naive().and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    Ok(Json(state.db.customer_stats(caller.org, since).await?))
}

/// Open review items with both customers.
async fn review_items(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, AppError> {
    caller.require(Role::Manager)?;
    let mut results = Vec::new();
    for item in state.db.open_review_items(caller.org).await? {
        let a = state.db.customer(caller.org, item.customer_a).await?;
        let b = state.db.customer(caller.org, item.customer_b).await?;
        results.push(json!({
            "id": item.id,
            "match_key": item.match_key,
            "created_at": item.created_at,
            "customer_a": a.as_ref().map(CustomerView::from),
            "customer_b": b.as_ref().map(CustomerView::from),
        }));
    }
    Ok(Json(json!({ "count": results.len(), "results": results })))
}

async fn dismiss_review_item(
    State(state): State<AppState>,
    caller: Caller,
    PathId(id): PathId,
) -> Result<Json<Value>, AppError> {
    caller.require(Role::Manager)?;
    if !state.db.close_review_item(caller.org, id, ReviewStatus::Dismissed, caller.actor).await? {
        return Err(AppError::NotFound);
    }
    METRICS.record_review_dismissed();
    Ok(Json(json!({ "id": id, "status": "dismissed" })))
}

#[derive(Debug, Deserialize)]
struct MergeRequest {
    survivor: Uuid,
    loser: Uuid,
}

/// A manager's merge: the loser's references move to the survivor, the loser stays as a
/// tombstone with `merged_into`, terminals learn the remap on their next pull.
async fn merge(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<MergeRequest>,
) -> Result<Json<Value>, AppError> {
    caller.require(Role::Manager)?;
    if req.survivor == req.loser {
        return Err(AppError::Invalid(ValidationErrors::one("loser", ErrorCode::InvalidChoice)));
    }
    let done = state
        .db
        .merge_customers(caller.org, req.survivor, req.loser, caller.actor, &state.clock)
        .await?
        .ok_or(AppError::NotFound)?;
    METRICS.record_explicit_merge();
    Ok(Json(json!({
        "survivor": CustomerView::from(&done.survivor),
        "loser": CustomerView::from(&done.loser),
        "sales_repointed": done.sales_repointed,
    })))
}
