//! The commands of sign-in and the manager's screens: the customer list with bulk actions, the
//! preferences editor, stats, and the review queue. Each checks the signed-in user's role with
//! the table the server uses; local writes go through the outbox like the counter's.

use crate::error::AppError;
use crate::session::{self, SessionInfo};
use crate::AppState;
use chrono::Utc;
use pos_core::preferences::{parse_contact_window, ContactWindowInput};
use pos_core::{Action, Channel, Customer, Lang, NotificationType, Preferences};
use pos_store::{Page, SearchQuery, Stats};
use pos_sync::{lock, Merged, ReviewCustomer, SyncError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use tauri::{AppHandle, State};
use uuid::Uuid;

type CmdResult<T> = Result<T, AppError>;

#[tauri::command]
pub async fn session_info(state: State<'_, AppState>) -> CmdResult<Option<SessionInfo>> {
    Ok(state.sessions.info())
}

#[tauri::command]
pub async fn sign_in(state: State<'_, AppState>, username: String, password: String) -> CmdResult<SessionInfo> {
    let server_url = state.settings().server_url;
    let session = session::sign_in(&state.store, server_url.as_deref(), &username, &password).await?;
    let info = session.info.clone();
    tracing::info!(
        "{} signed in as {}{}",
        info.username,
        info.role.as_str(),
        if info.offline { " (offline)" } else { "" }
    );
    state.sessions.set(Some(session));
    Ok(info)
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> CmdResult<()> {
    state.sessions.set(None);
    Ok(())
}

/// The language of the window, switchable by anyone at any time (also before signing in).
#[tauri::command]
pub async fn set_language(app: AppHandle, state: State<'_, AppState>, language: Lang) -> CmdResult<Lang> {
    let mut settings = state.settings();
    settings.language = language;
    Ok(state.save_settings(&app, settings)?.language)
}

/// The customer list: filters, ordering and pages over the local store.
#[tauri::command]
pub async fn list_customers(state: State<'_, AppState>, query: SearchQuery) -> CmdResult<Page<Customer>> {
    state.sessions.require(Action::EditCustomer)?;
    Ok(lock(&state.store).search(&query)?)
}

/// Activates or deactivates the chosen customers; returns how many changed.
#[tauri::command]
pub async fn set_customers_active(
    app: AppHandle,
    state: State<'_, AppState>,
    ids: Vec<Uuid>,
    active: bool,
) -> CmdResult<usize> {
    state.sessions.require(Action::BulkActions)?;
    let changed = lock(&state.store).set_active(&ids, active)?;
    state.changed(&app);
    Ok(changed)
}

/// Preferences as the editor sends them: the contact window as typed.
#[derive(Debug, Deserialize)]
pub struct PreferencesInput {
    channels: BTreeSet<Channel>,
    notification_types: BTreeSet<NotificationType>,
    contact_window: Option<ContactWindowInput>,
    language: Lang,
}

#[tauri::command]
pub async fn save_preferences(
    app: AppHandle,
    state: State<'_, AppState>,
    customer_id: Uuid,
    preferences: PreferencesInput,
) -> CmdResult<Preferences> {
    state.sessions.require(Action::EditPreferences)?;
    let contact_window = match preferences.contact_window {
        Some(window) => Some(parse_contact_window(&window).map_err(|e| AppError::Store(e.into()))?),
        None => None,
    };
    let next = Preferences {
        channels: preferences.channels,
        notification_types: preferences.notification_types,
        contact_window,
        language: preferences.language,
    };
    let saved = lock(&state.store).set_preferences(customer_id, &next)?;
    state.changed(&app);
    Ok(saved)
}

#[tauri::command]
pub async fn customer_stats(state: State<'_, AppState>, days: Option<u32>) -> CmdResult<Stats> {
    state.sessions.require(Action::SeeStats)?;
    Ok(lock(&state.store).stats(Utc::now().date_naive(), days.unwrap_or(30))?)
}

/// One side of a review item, with what this terminal knows of its purchases.
#[derive(Debug, Serialize)]
pub struct ReviewSide {
    #[serde(flatten)]
    customer: ReviewCustomer,
    purchase_count: u64,
}

#[derive(Debug, Serialize)]
pub struct ReviewItemView {
    id: Uuid,
    match_key: String,
    created_at: String,
    a: ReviewSide,
    b: ReviewSide,
}

/// The answer of a call to the server as the signed-in user. When the server no longer takes
/// the session's tokens, the user stays signed in here and is asked for the password again.
fn from_server<T>(state: &AppState, answer: Result<T, SyncError>) -> CmdResult<T> {
    match answer {
        Err(SyncError::Unauthorized) => {
            state.sessions.lost_server();
            Err(AppError::SessionOffline)
        }
        other => Ok(other?),
    }
}

/// The open review items (from the server: only it sees every branch's captures).
#[tauri::command]
pub async fn review_items(state: State<'_, AppState>) -> CmdResult<Vec<ReviewItemView>> {
    let client = state.sessions.client(Action::ReviewDuplicates)?;
    let items = from_server(&state, client.review_items().await)?;
    let store = lock(&state.store);
    let side = |customer: ReviewCustomer| -> CmdResult<ReviewSide> {
        let purchase_count = store.sales_summary(customer.id)?.purchase_count;
        Ok(ReviewSide { customer, purchase_count })
    };
    let mut views = Vec::new();
    for item in items {
        // A side already merged away elsewhere has no customer: nothing left to review.
        if let (Some(a), Some(b)) = (item.customer_a, item.customer_b) {
            views.push(ReviewItemView {
                id: item.id,
                match_key: item.match_key,
                created_at: item.created_at,
                a: side(a)?,
                b: side(b)?,
            });
        }
    }
    Ok(views)
}

#[tauri::command]
pub async fn dismiss_review_item(state: State<'_, AppState>, id: Uuid) -> CmdResult<()> {
    let client = state.sessions.client(Action::ReviewDuplicates)?;
    from_server(&state, client.dismiss(id).await)
}

/// Merges `loser` into `survivor` on the server, then pulls at once so this terminal shows one
/// customer with both histories.
#[tauri::command]
pub async fn merge_customers(state: State<'_, AppState>, survivor: Uuid, loser: Uuid) -> CmdResult<Merged> {
    let client = state.sessions.client(Action::ReviewDuplicates)?;
    let merged = from_server(&state, client.merge(survivor, loser).await)?;
    state.worker.wake();
    Ok(merged)
}
