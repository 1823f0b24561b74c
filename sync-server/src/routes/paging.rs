//! The customer list's filters and pages, shared by the list and the search endpoints.

use super::extract::Caller;
use super::views::{CustomerView, Page};
use crate::db::{CustomerFilter, Ordering};
use crate::error::AppError;
use crate::AppState;
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use pos_core::{Action, ErrorCode, Source, ValidationErrors};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

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
