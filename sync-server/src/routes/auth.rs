//! Sign-in (`/api/token/`, refresh rotation) and terminal registration.

use super::extract::ApiJson;
use crate::accounts::{self, Registration};
use crate::auth::{digest, random_secret, verify_password, Principal, Role, REFRESH_TTL_DAYS};
use crate::error::AppError;
use crate::AppState;
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, Utc};
use pos_core::{Action, ErrorCode, ValidationErrors};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/token/", post(token))
        .route("/api/token/refresh/", post(refresh))
        .route("/api/v1/devices/register", post(register_device))
        .route("/api/v1/me", get(me))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct TokenRequest {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TokenPair {
    pub access: String,
    pub refresh: String,
}

fn required(pairs: &[(&str, &str)]) -> Result<(), ValidationErrors> {
    let mut errors = ValidationErrors::default();
    for (field, value) in pairs {
        if value.trim().is_empty() {
            errors.push(*field, ErrorCode::Required);
        }
    }
    errors.into_result(())
}

async fn issue_pair(state: &AppState, user: Uuid, org: Uuid, role: Role, family: Uuid) -> Result<TokenPair, AppError> {
    let refresh = random_secret();
    state
        .db
        .store_refresh_token(&digest(&refresh), org, family, user, Utc::now() + Duration::days(REFRESH_TTL_DAYS))
        .await?;
    Ok(TokenPair { access: state.jwt.issue(user, org, role), refresh })
}

/// Sign in (seed 1's `POST /api/token/`)
#[utoipa::path(post, path = "/api/token/", tag = "auth", request_body = TokenRequest,
    responses((status = 200, description = "Access and refresh tokens", body = TokenPair)))]
pub(super) async fn token(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> Result<Json<TokenPair>, AppError> {
    required(&[("username", &req.username), ("password", &req.password)])?;
    let user = state.db.user_by_username(req.username.trim()).await?;
    // Verify against a dummy hash when the user is unknown, so timing does not reveal names.
    let hash = user.as_ref().map_or(&*state.dummy_hash, |u| u.password_hash.as_str());
    let ok = verify_password(&req.password, hash);
    let user = user.filter(|_| ok).ok_or(AppError::Unauthorized)?;
    let role = Role::parse(&user.role).ok_or(AppError::Forbidden)?;
    Ok(Json(issue_pair(&state, user.id, user.organization_id, role, Uuid::now_v7()).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct RefreshRequest {
    #[serde(default)]
    refresh: String,
}

/// Rotate a refresh token
///
/// The presented token is spent and a new pair issued in its family; a spent token presented
/// again revokes the family.
#[utoipa::path(post, path = "/api/token/refresh/", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, description = "A new pair", body = TokenPair)))]
pub(super) async fn refresh(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> Result<Json<TokenPair>, AppError> {
    required(&[("refresh", &req.refresh)])?;
    match state.db.use_refresh_token(&digest(req.refresh.trim())).await? {
        crate::db::RefreshUse::Fresh { family_id, user_id, organization_id } => {
            let role = state
                .db
                .user(organization_id, user_id)
                .await?
                .and_then(|u| Role::parse(&u.role))
                .ok_or(AppError::Unauthorized)?;
            Ok(Json(issue_pair(&state, user_id, organization_id, role, family_id).await?))
        }
        crate::db::RefreshUse::Reused => {
            tracing::warn!("a spent refresh token was presented again; its family is revoked");
            Err(AppError::Unauthorized)
        }
        crate::db::RefreshUse::Unknown => Err(AppError::Unauthorized),
    }
}

/// The signed-in user, as the desktop app shows it and decides its screens by.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Me {
    pub id: Uuid,
    pub username: String,
    pub organization_id: Uuid,
    #[schema(value_type = String, example = "manager")]
    pub role: Role,
    /// What this role may do (`look_up`, `capture`, `edit_preferences`, `review_duplicates`, …).
    #[schema(value_type = Vec<String>)]
    pub actions: Vec<Action>,
}

/// Who the bearer token belongs to
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, description = "The signed-in user", body = Me)))]
pub(super) async fn me(State(state): State<AppState>, principal: Principal) -> Result<Json<Me>, AppError> {
    let Principal::User { id, organization_id, .. } = principal else { return Err(AppError::Forbidden) };
    let user = state.db.user(organization_id, id).await?.ok_or(AppError::Unauthorized)?;
    // The role as stored now, not as the token remembers it: a demoted user sees it at once.
    let role = Role::parse(&user.role).ok_or(AppError::Forbidden)?;
    Ok(Json(Me { id, username: user.username, organization_id, role, actions: role.actions() }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(super) struct RegisterRequest {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    /// The id the terminal already stamps its changes with; a new one is assigned if absent.
    device_id: Option<Uuid>,
}

/// Register a terminal with a one-time code
#[utoipa::path(post, path = "/api/v1/devices/register", tag = "auth", request_body = RegisterRequest,
    responses((status = 200, description = "The terminal's credential (shown once)", body = Registration)))]
pub(super) async fn register_device(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<RegisterRequest>,
) -> Result<Json<Registration>, AppError> {
    required(&[("code", &req.code), ("name", &req.name)])?;
    Ok(Json(accounts::register_device(&state, &req.code, req.name.trim(), req.device_id).await?))
}
