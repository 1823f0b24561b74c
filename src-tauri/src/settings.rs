//! The terminal's settings (server URL, terminal name, language) in tauri-plugin-store, and the
//! device credential in a file only this user can read.

use crate::error::AppError;
use pos_core::Lang;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use tauri::{AppHandle, Runtime};
use tauri_plugin_store::StoreExt;

const SETTINGS_FILE: &str = "settings.json";
const CREDENTIAL_FILE: &str = "device-credential";

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

fn credential_path(dir: &Path) -> PathBuf {
    dir.join(CREDENTIAL_FILE)
}

/// The device credential, if this terminal is registered.
pub fn credential(dir: &Path) -> Option<String> {
    std::fs::read_to_string(credential_path(dir)).ok().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Stores the device credential readable by this user only, replacing it atomically.
pub fn store_credential(dir: &Path, credential: &str) -> Result<(), AppError> {
    use std::io::Write;
    let tmp = dir.join(format!("{CREDENTIAL_FILE}.tmp"));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp)?;
    file.write_all(credential.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, credential_path(dir))?;
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

    #[cfg(unix)]
    #[test]
    fn credential_file_is_private_to_the_user() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(credential(dir.path()), None);
        store_credential(dir.path(), "secret-1").unwrap();
        store_credential(dir.path(), "secret-2").unwrap();
        assert_eq!(credential(dir.path()).as_deref(), Some("secret-2"));
        let mode = std::fs::metadata(credential_path(dir.path())).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
