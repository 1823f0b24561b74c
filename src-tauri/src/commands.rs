//! The commands the window calls. Each is thin: parse, call the store or the sync client, map
//! errors. A write wakes the sync worker so it reaches the server at once when online.

use crate::error::AppError;
use crate::settings::Settings;
use crate::worker::SyncStatus;
use crate::AppState;
use chrono::Utc;
use pos_core::error::ErrorCode;
use pos_core::sale::{parse_amount_minor, PaymentMethod, SaleInput, SaleLine};
use pos_core::{
    validate_customer as check_customer, Action, Customer, CustomerInput, FieldError, Lang, Preferences, Sale,
    ValidationErrors,
};
use pos_store::{FindOrCreate, MatchedBy, OutboxEntry, Page, SaleCustomer, SalesSummary};
use pos_sync::{lock, SyncClient};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, State};
use uuid::Uuid;

type CmdResult<T> = Result<T, AppError>;

/// What the window needs at start.
#[derive(Debug, Serialize)]
pub struct AppInfo {
    settings: Settings,
    registered: bool,
    device_id: Uuid,
    /// This terminal's branch, once registered.
    branch_id: Option<Uuid>,
    /// Milliseconds from process start to the search box taking input, once the window said so.
    interactive_ms: Option<u64>,
    status: SyncStatus,
}

#[tauri::command]
pub async fn app_info(state: State<'_, AppState>) -> CmdResult<AppInfo> {
    let store = lock(&state.store);
    Ok(AppInfo {
        settings: state.settings(),
        registered: state.registered.load(std::sync::atomic::Ordering::Relaxed),
        device_id: store.identity().device_id,
        branch_id: store.identity().branch_id,
        interactive_ms: *state.interactive_ms.lock().expect("lock"),
        status: state.worker.status(&store)?,
    })
}

/// The window reports that the search box is ready for typing.
#[tauri::command]
pub async fn ui_ready(state: State<'_, AppState>) -> CmdResult<u64> {
    let ms = state.launched.elapsed().as_millis() as u64;
    state.interactive_ms.lock().expect("lock").get_or_insert(ms);
    tracing::info!("interactive {ms} ms after launch");
    Ok(ms)
}

/// One line of the counter's result list: what a cashier needs to recognise the customer.
#[derive(Debug, Serialize)]
pub struct Hit {
    id: Uuid,
    first_name: String,
    surname: String,
    phone: Option<String>,
    email: Option<String>,
    identification: Option<String>,
    passport_number: Option<String>,
    city: Option<String>,
    is_active: bool,
    matched_by: MatchedBy,
}

#[tauri::command]
pub async fn quick_lookup(state: State<'_, AppState>, q: String, limit: Option<usize>) -> CmdResult<Vec<Hit>> {
    state.sessions.require(Action::LookUp)?;
    let hits = lock(&state.store).quick_lookup(&q, limit.unwrap_or(20).min(100))?;
    Ok(hits
        .into_iter()
        .map(|h| {
            let c = h.customer;
            Hit {
                id: c.id,
                first_name: c.first_name,
                surname: c.surname,
                phone: c.phone,
                email: c.email,
                identification: c.identification,
                passport_number: c.passport_number,
                city: c.city,
                is_active: c.is_active,
                matched_by: h.matched_by,
            }
        })
        .collect())
}

/// Everything the customer card shows.
#[derive(Debug, Serialize)]
pub struct CustomerCard {
    customer: Customer,
    preferences: Preferences,
    history: Page<Sale>,
    summary: SalesSummary,
}

#[tauri::command]
pub async fn customer_card(state: State<'_, AppState>, id: Uuid) -> CmdResult<CustomerCard> {
    state.sessions.require(Action::LookUp)?;
    let store = lock(&state.store);
    let customer = store.resolve_customer(id)?.ok_or(pos_store::StoreError::NotFound(id))?;
    Ok(CustomerCard {
        preferences: store.preferences(customer.id)?,
        history: store.purchase_history(customer.id, 1, 20)?,
        summary: store.sales_summary(customer.id)?,
        customer,
    })
}

/// The form's check while the cashier types: the same rules the store and the server apply.
#[derive(Debug, Serialize)]
pub struct Validation {
    is_valid: bool,
    errors: ValidationErrors,
}

#[tauri::command]
pub async fn validate_customer(input: CustomerInput) -> CmdResult<Validation> {
    Ok(match check_customer(&input, Utc::now().date_naive()) {
        Ok(_) => Validation { is_valid: true, errors: ValidationErrors::default() },
        Err(errors) => Validation { is_valid: false, errors },
    })
}

#[tauri::command]
pub async fn create_customer(app: AppHandle, state: State<'_, AppState>, input: CustomerInput) -> CmdResult<Customer> {
    state.sessions.require(Action::Capture)?;
    let customer = lock(&state.store).create_customer(&input)?;
    state.changed(&app);
    Ok(customer)
}

/// Saves the edited form of a customer, or, with `rejected_change`, fixes a change the server
/// rejected and sends the record again.
#[tauri::command]
pub async fn update_customer(
    app: AppHandle,
    state: State<'_, AppState>,
    id: Uuid,
    input: CustomerInput,
    rejected_change: Option<Uuid>,
) -> CmdResult<Customer> {
    let customer = match rejected_change {
        None => {
            state.sessions.require(Action::EditCustomer)?;
            lock(&state.store).update_customer(id, &input)?
        }
        // Whoever captures may fix a rejected capture; a rejected edit needs an editor.
        Some(change_id) => {
            let capture = lock(&state.store).rejected_change_is_capture(change_id)?;
            state.sessions.require(if capture == Some(true) { Action::Capture } else { Action::EditCustomer })?;
            lock(&state.store).fix_rejected_customer(change_id, &input)?
        }
    };
    state.changed(&app);
    Ok(customer)
}

/// A checkout as the counter sends it: the attached customer, or the customer's details to find
/// or create; lines or just a typed total; how it was paid.
#[derive(Debug, Deserialize)]
pub struct CheckoutRequest {
    customer_id: Option<Uuid>,
    customer: Option<CustomerInput>,
    #[serde(default)]
    lines: Vec<TypedLine>,
    /// The total as typed (`12,50`, `1.234,50`); optional when there are lines.
    total: Option<String>,
    currency: String,
    payment_method: PaymentMethod,
}

/// A sale line as the cashier typed it: quantity and price in local notation (`1,5`, `12,50`).
#[derive(Debug, Deserialize)]
pub struct TypedLine {
    description: String,
    quantity: String,
    unit_price: String,
}

impl TypedLine {
    /// The line in minor units, or the field errors of line `index` (`lines[0].unit_price`).
    fn parse(&self, index: usize, errors: &mut ValidationErrors) -> Option<SaleLine> {
        let quantity = self.quantity.trim().replace(',', ".").parse::<f64>().ok().filter(|q| q.is_finite() && *q > 0.0);
        if quantity.is_none() {
            errors.push(format!("lines[{index}].quantity"), ErrorCode::AmountInvalid);
        }
        let price = parse_amount_minor(&self.unit_price)
            .map_err(|code| errors.push(format!("lines[{index}].unit_price"), code))
            .ok();
        Some(SaleLine {
            description: self.description.trim().to_owned(),
            quantity: quantity?,
            unit_price_minor: price?,
        })
    }
}

#[derive(Debug, Serialize)]
pub struct CheckoutDone {
    sale: Sale,
    /// Set when the customer was found or created by this checkout.
    customer: Option<FindOrCreate>,
}

#[tauri::command]
pub async fn checkout(app: AppHandle, state: State<'_, AppState>, request: CheckoutRequest) -> CmdResult<CheckoutDone> {
    state.sessions.require(Action::Capture)?;
    let mut errors = ValidationErrors::default();
    let lines: Vec<SaleLine> = request.lines.iter().enumerate().filter_map(|(i, l)| l.parse(i, &mut errors)).collect();
    let total_minor = match request.total.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => parse_amount_minor(text).map_err(|code| errors.push("total", code)).ok(),
        None => None,
    };
    if !errors.is_empty() {
        return Err(AppError::Store(errors.into()));
    }
    let who = match (request.customer_id, request.customer) {
        (Some(id), _) => SaleCustomer::Known(id),
        (None, Some(input)) => SaleCustomer::FindOrCreate(Box::new(input)),
        (None, None) => return Err(invalid("customer", ErrorCode::Required)),
    };
    let input = SaleInput { lines, total_minor, currency: request.currency, payment_method: request.payment_method };
    let (sale, customer) = lock(&state.store).checkout(&who, &input)?;
    state.changed(&app);
    Ok(CheckoutDone { sale, customer })
}

fn invalid(field: &str, code: ErrorCode) -> AppError {
    AppError::Store(ValidationErrors(vec![FieldError { field: field.to_owned(), code }]).into())
}

#[tauri::command]
pub async fn sync_status(state: State<'_, AppState>) -> CmdResult<SyncStatus> {
    Ok(state.worker.status(&lock(&state.store))?)
}

#[tauri::command]
pub async fn sync_now(state: State<'_, AppState>) -> CmdResult<()> {
    state.worker.wake();
    Ok(())
}

#[tauri::command]
pub async fn rejected_changes(state: State<'_, AppState>) -> CmdResult<Vec<OutboxEntry>> {
    state.sessions.require(Action::Capture)?;
    Ok(lock(&state.store).rejected_changes()?)
}

#[tauri::command]
pub async fn discard_rejected(app: AppHandle, state: State<'_, AppState>, change_id: Uuid) -> CmdResult<bool> {
    state.sessions.require(Action::Capture)?;
    let discarded = lock(&state.store).discard_rejected(change_id)?;
    state.changed(&app);
    Ok(discarded)
}

/// Saves terminal name and language (the server URL changes only with a registration).
#[tauri::command]
pub async fn save_settings(
    app: AppHandle,
    state: State<'_, AppState>,
    terminal_name: String,
    language: Lang,
) -> CmdResult<Settings> {
    state.sessions.require(Action::ConfigureTerminal)?;
    let name = terminal_name.trim();
    if name.is_empty() {
        return Err(AppError::Field {
            field: "terminal_name",
            en: "Give this terminal a name",
            es: "Dele un nombre a esta caja",
        });
    }
    let mut settings = state.settings();
    settings.terminal_name = name.to_owned();
    settings.language = language;
    state.save_settings(&app, settings)
}

/// Registers this terminal with a server using a one-time code, then syncs at once.
#[tauri::command]
pub async fn register_terminal(
    app: AppHandle,
    state: State<'_, AppState>,
    server_url: String,
    code: String,
    terminal_name: String,
) -> CmdResult<Settings> {
    // A new terminal registers with nobody signed in (the one-time code is the permission); a
    // registered one changes server only by a manager's hand.
    if state.registered.load(std::sync::atomic::Ordering::Relaxed) {
        state.sessions.require(Action::ConfigureTerminal)?;
    }
    crate::register(&app, &state, &server_url, &code, &terminal_name).await
}

/// The client for the registered server, if any.
pub fn client_for(settings: &Settings, credential: Option<String>) -> Option<SyncClient> {
    Some(SyncClient::new(settings.server_url.as_deref()?, &credential?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(quantity: &str, unit_price: &str) -> TypedLine {
        TypedLine { description: " Café ".into(), quantity: quantity.into(), unit_price: unit_price.into() }
    }

    #[test]
    fn typed_lines_parse_local_notation_and_name_the_bad_field() {
        let mut errors = ValidationErrors::default();
        let parsed = line("1,5", "1.234,50").parse(0, &mut errors).expect("valid line");
        assert!(errors.is_empty());
        assert_eq!((parsed.description.as_str(), parsed.quantity, parsed.unit_price_minor), ("Café", 1.5, 123_450));

        assert!(line("0", "12,5x").parse(3, &mut errors).is_none());
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["lines[3].quantity", "lines[3].unit_price"]);
    }
}
