//! The POS terminal's desktop app (Tauri 2): the counter window over the terminal's own SQLite
//! store, with a background worker that syncs it with the server.
//!
//! Launch options (for scripts and tests; a cashier never needs them): `--data-dir DIR` keeps
//! the store, settings and credential there instead of the user's data directory;
//! `--server URL --registration-code CODE [--terminal-name NAME]` registers at start when the
//! terminal is not registered yet; `--lang es|en` sets the language.

mod back_office;
mod commands;
mod error;
mod session;
mod settings;
mod worker;

pub use error::AppError;
pub use settings::Settings;

use pos_core::Lang;
use pos_store::Store;
use pos_sync::lock;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tauri::{AppHandle, Manager};
use worker::SyncWorker;

/// What every command shares.
#[derive(Debug)]
pub struct AppState {
    store: Arc<Mutex<Store>>,
    worker: SyncWorker,
    sessions: session::Sessions,
    settings: Mutex<Settings>,
    data_dir: PathBuf,
    /// Whether a device credential is kept (read once at start: the keyring is a D-Bus call away).
    registered: AtomicBool,
    launched: Instant,
    interactive_ms: Mutex<Option<u64>>,
}

impl AppState {
    fn settings(&self) -> Settings {
        self.settings.lock().expect("settings lock").clone()
    }

    fn save_settings(&self, app: &AppHandle, settings: Settings) -> Result<Settings, AppError> {
        settings::save(app, &self.data_dir, &settings)?;
        *self.settings.lock().expect("settings lock") = settings.clone();
        Ok(settings)
    }

    /// After a local write: tell the window the new pending count and push it now.
    fn changed(&self, app: &AppHandle) {
        self.worker.announce(app, &self.store);
        self.worker.wake();
    }
}

/// Options given on the command line.
#[derive(Debug, Default)]
struct LaunchOptions {
    data_dir: Option<PathBuf>,
    server: Option<String>,
    registration_code: Option<String>,
    terminal_name: Option<String>,
    lang: Option<Lang>,
}

impl LaunchOptions {
    fn parse(mut args: impl Iterator<Item = String>) -> Self {
        let mut options = Self::default();
        while let Some(arg) = args.next() {
            let mut value = || args.next();
            match arg.as_str() {
                "--data-dir" => options.data_dir = value().map(PathBuf::from),
                "--server" => options.server = value(),
                "--registration-code" => options.registration_code = value(),
                "--terminal-name" => options.terminal_name = value(),
                "--lang" => options.lang = value().and_then(|l| serde_json::from_value(l.into()).ok()),
                other => tracing::warn!("ignoring unknown option {other:?}"),
            }
        }
        options
    }
}

/// Registers with `server_url` using a one-time `code`, keeps the credential and the settings,
/// and points the worker at the server.
async fn register(
    app: &AppHandle,
    state: &AppState,
    server_url: &str,
    code: &str,
    terminal_name: &str,
) -> Result<Settings, AppError> {
    let server_url = settings::server_url(server_url)?;
    let name = Some(terminal_name.trim()).filter(|n| !n.is_empty()).unwrap_or("Caja");
    let device_id = lock(&state.store).identity().device_id;
    let registration = pos_sync::register(&server_url, code.trim(), name, device_id).await?;
    lock(&state.store).set_membership(registration.organization_id, registration.branch_id)?;
    settings::store_credential(&state.data_dir, &registration.credential)?;
    state.registered.store(true, Ordering::Relaxed);
    let mut settings = state.settings();
    settings.server_url = Some(server_url.clone());
    settings.terminal_name = name.to_owned();
    let settings = state.save_settings(app, settings)?;
    state.worker.set_client(pos_sync::SyncClient::new(&server_url, &registration.credential));
    // A session belongs to the server and organisation it was opened with.
    state.sessions.set(None);
    Ok(settings)
}

fn setup(app: &mut tauri::App, options: LaunchOptions, launched: Instant) -> Result<(), Box<dyn std::error::Error>> {
    let data_dir = match options.data_dir {
        Some(dir) => dir,
        None => app.path().app_data_dir()?,
    };
    std::fs::create_dir_all(&data_dir)?;
    let store = Arc::new(Mutex::new(Store::open(data_dir.join("terminal.db"))?));
    let handle = app.handle().clone();
    let mut settings = settings::load(&handle, &data_dir);
    if let Some(lang) = options.lang {
        settings.language = lang;
    }
    let credential = settings::credential(&data_dir);
    let registered = AtomicBool::new(credential.is_some());
    let client = commands::client_for(&settings, credential);
    let worker = SyncWorker::start(handle.clone(), store.clone(), client.clone());
    app.manage(AppState {
        store,
        worker,
        sessions: session::Sessions::default(),
        settings: Mutex::new(settings),
        data_dir,
        registered,
        launched,
        interactive_ms: Mutex::new(None),
    });
    if let (None, Some(server), Some(code)) = (client, options.server, options.registration_code) {
        let name = options.terminal_name.unwrap_or_else(|| "Caja 1".to_owned());
        tauri::async_runtime::spawn(async move {
            let state = handle.state::<AppState>();
            match register(&handle, &state, &server, &code, &name).await {
                Ok(_) => tracing::info!("registered with {server}"),
                Err(e) => tracing::error!("registration with {server} failed: {e}"),
            }
        });
    }
    Ok(())
}

/// Runs the app until its window closes.
pub fn run() {
    let launched = Instant::now();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tao=warn,wry=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let options = LaunchOptions::parse(std::env::args().skip(1));
    tauri::Builder::default()
        .plugin(tauri_plugin_store::Builder::new().build())
        .setup(move |app| setup(app, options, launched))
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::ui_ready,
            commands::quick_lookup,
            commands::customer_card,
            commands::validate_customer,
            commands::create_customer,
            commands::update_customer,
            commands::checkout,
            commands::sync_status,
            commands::sync_now,
            commands::rejected_changes,
            commands::discard_rejected,
            commands::save_settings,
            commands::register_terminal,
            back_office::session_info,
            back_office::sign_in,
            back_office::sign_out,
            back_office::set_language,
            back_office::list_customers,
            back_office::set_customers_active,
            back_office::save_preferences,
            back_office::customer_stats,
            back_office::review_items,
            back_office::dismiss_review_item,
            back_office::merge_customers,
        ])
        .run(tauri::generate_context!())
        .expect("the desktop app failed to start");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn launch_options_are_read_and_unknown_ones_ignored() {
        let args = ["--data-dir", "/tmp/x", "--server", "http://s", "--registration-code", "AB", "--lang", "en", "-x"];
        let o = LaunchOptions::parse(args.iter().map(|s| s.to_string()));
        assert_eq!(o.data_dir, Some(PathBuf::from("/tmp/x")));
        assert_eq!(o.server.as_deref(), Some("http://s"));
        assert_eq!(o.registration_code.as_deref(), Some("AB"));
        assert_eq!(o.lang, Some(Lang::En));
    }
}
