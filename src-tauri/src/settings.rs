//! The terminal's settings (server URL, terminal name, language) in tauri-plugin-store, and the
//! device credential through `pos-credential`: in the OS keyring when one answers, otherwise in a
//! file of the data directory only this user can read.

use crate::error::AppError;
use pos_core::Lang;
use pos_credential::DeviceCredential;
use serde::{Deserialize, Serialize};
use std::path::Path;
use tauri::{AppHandle, Runtime};
use tauri_plugin_store::StoreExt;

const SETTINGS_FILE: &str = "settings.json";
/// The Secret Service attribute `service` of the app's credentials (one entry per data directory).
const CREDENTIAL_SERVICE: &str = "pos-desktop";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The sync server, e.g. `http://10.0.0.5:8080`; none until the terminal is registered.
    pub server_url: Option<String>,
    pub terminal_name: String,
    pub language: Lang,
}

impl Default for Settings {
    fn default() -> Self {
        Self { server_url: None, terminal_name: "Caja 1".to_owned(), language: Lang::Es }
    }
}

/// Loads the settings kept under `dir`, or the defaults.
pub fn load<R: Runtime>(app: &AppHandle<R>, dir: &Path) -> Settings {
    let Ok(store) = app.store(dir.join(SETTINGS_FILE)) else { return Settings::default() };
    store.get("settings").and_then(|v| serde_json::from_value(v).ok()).unwrap_or_default()
}

pub fn save<R: Runtime>(app: &AppHandle<R>, dir: &Path, settings: &Settings) -> Result<(), AppError> {
    let store = app.store(dir.join(SETTINGS_FILE)).map_err(|e| AppError::Settings(e.to_string()))?;
    store.set("settings", serde_json::to_value(settings).expect("settings serialise"));
    store.save().map_err(|e| AppError::Settings(e.to_string()))
}

/// Checks what a person typed as the server URL and returns it without a trailing slash.
pub fn server_url(raw: &str) -> Result<String, AppError> {
    let url = raw.trim().trim_end_matches('/');
    let valid = (url.starts_with("http://") || url.starts_with("https://"))
        && url.split("://").nth(1).is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace));
    if !valid {
        return Err(AppError::Field {
            field: "server_url",
            en: "Enter the server address, e.g. http://192.168.1.10:8080",
            es: "Escriba la dirección del servidor, p. ej. http://192.168.1.10:8080",
        });
    }
    Ok(url.to_owned())
}

/// The device credential, if this terminal is registered (one the keyring cannot give reads as
/// none, with a warning in the log).
pub fn credential(dir: &Path) -> Option<String> {
    DeviceCredential::open(CREDENTIAL_SERVICE, dir).load().unwrap_or_else(|e| {
        tracing::error!("could not read the device credential: {e}");
        None
    })
}

/// Stores the device credential, replacing the earlier one: in the OS keyring when it takes it,
/// otherwise in a file readable by this user only.
pub fn store_credential(dir: &Path, credential: &str) -> Result<(), AppError> {
    let place = DeviceCredential::open(CREDENTIAL_SERVICE, dir).store(credential)?;
    tracing::info!("device credential stored in the {place:?}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_url_needs_a_scheme_and_a_host() {
        assert_eq!(server_url(" http://10.0.0.5:8080/ ").unwrap(), "http://10.0.0.5:8080");
        for bad in ["", "10.0.0.5:8080", "http://", "ftp://x", "http://a b"] {
            assert!(matches!(server_url(bad), Err(AppError::Field { field: "server_url", .. })), "{bad:?}");
        }
    }

    /// The credential survives a restart and a re-registration replaces it. Without a session bus
    /// (as under `cargo test` here and in CI) it is the private file; `pos-credential`'s own tests
    /// cover the keyring against a real Secret Service.
    #[cfg(unix)]
    #[test]
    fn credential_is_kept_and_replaced() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(credential(dir.path()), None);
        store_credential(dir.path(), "secret-1").unwrap();
        store_credential(dir.path(), "secret-2").unwrap();
        assert_eq!(credential(dir.path()).as_deref(), Some("secret-2"));
        if std::env::var_os(pos_credential::SESSION_BUS_VAR).is_none() {
            let file = dir.path().join(pos_credential::CREDENTIAL_FILE);
            let mode = std::fs::metadata(file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        DeviceCredential::open(CREDENTIAL_SERVICE, dir.path()).delete().unwrap();
        assert_eq!(credential(dir.path()), None);
    }
}
