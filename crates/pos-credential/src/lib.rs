//! The terminal's device credential: in the OS keyring (the Secret Service over D-Bus) when one
//! is reachable, otherwise in a file only this user can read.
//!
//! The keyring is tried only when a session bus is announced (`DBUS_SESSION_BUS_ADDRESS`). It is
//! never allowed to prompt: a locked or missing default collection counts as "no keyring", and
//! the credential goes to the file instead, with a warning saying why.
//!
//! Invariant: **the file exists only while it holds the newest credential.** A credential stored
//! in the keyring removes the file (or, if it cannot, overwrites it), so `load` reads the file
//! first, moves what it finds into the keyring when it can, and asks the keyring otherwise. A
//! keyring entry left behind by an earlier registration therefore never hides a newer one.
//!
//! Each data directory is its own entry (attribute `username` = its canonical path), so several
//! terminals on one machine keep their own credentials.

mod file;
#[cfg(target_os = "linux")]
mod secret_service;

use std::path::Path;

pub use file::PrivateFile;

/// The name of the file the credential falls back to, inside the data directory.
pub const CREDENTIAL_FILE: &str = "device-credential";

/// The environment variable that announces a session bus.
pub const SESSION_BUS_VAR: &str = "DBUS_SESSION_BUS_ADDRESS";

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("the credential file: {0}")]
    File(#[from] std::io::Error),
    #[error("the OS keyring: {0}")]
    Keyring(String),
    #[error("the OS keyring holds a credential that is not text")]
    NotText,
}

/// Where a credential was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Keyring,
    File,
}

/// The device credential of the terminal whose data lives in one directory.
#[derive(Debug)]
pub struct DeviceCredential {
    file: PrivateFile,
    keyring: Option<Keyring>,
}

impl DeviceCredential {
    /// The credential of the terminal in `data_dir` (which must exist), kept in the keyring when
    /// this process has a session bus, under the Secret Service attribute `service` = `service`.
    pub fn open(service: &str, data_dir: &Path) -> Self {
        let bus = std::env::var_os(SESSION_BUS_VAR).is_some_and(|v| !v.is_empty());
        if bus {
            Self::with_keyring(service, data_dir)
        } else {
            tracing::info!("no session bus ({SESSION_BUS_VAR} unset): the device credential is kept in a private file");
            Self::file_only(data_dir)
        }
    }

    /// The credential kept in the keyring when it answers, whatever the environment says.
    pub fn with_keyring(service: &str, data_dir: &Path) -> Self {
        let dir = data_dir.canonicalize().unwrap_or_else(|_| data_dir.to_path_buf());
        let user = dir.to_string_lossy().into_owned();
        Self { file: PrivateFile::new(data_dir), keyring: Some(Keyring { service: service.to_owned(), user }) }
    }

    /// The credential kept in the private file only.
    pub fn file_only(data_dir: &Path) -> Self {
        Self { file: PrivateFile::new(data_dir), keyring: None }
    }

    /// The file the credential falls back to.
    pub fn file_path(&self) -> &Path {
        self.file.path()
    }

    /// The credential, if this terminal is registered. A file credential is moved into the
    /// keyring when the keyring takes it. A keyring that does not answer reads as no credential
    /// (with a warning), since the file is then the only place a credential could be.
    pub fn load(&self) -> Result<Option<String>, CredentialError> {
        if let Some(credential) = self.file.load()? {
            if let Some(keyring) = &self.keyring {
                match keyring.store(&credential) {
                    Ok(()) => match self.file.delete() {
                        Ok(()) => tracing::info!("moved the device credential from its file into the OS keyring"),
                        Err(e) => tracing::warn!("the device credential is in the OS keyring, but its file stays: {e}"),
                    },
                    Err(e) => tracing::warn!("the device credential stays in its private file: {e}"),
                }
            }
            return Ok(Some(credential));
        }
        let Some(keyring) = &self.keyring else { return Ok(None) };
        match keyring.load() {
            Ok(credential) => Ok(credential),
            Err(e) => {
                tracing::warn!("could not read the device credential from the OS keyring: {e}");
                Ok(None)
            }
        }
    }

    /// Stores the credential, replacing any earlier one: in the keyring if it takes it, otherwise
    /// in the private file (atomically). Says where it went.
    pub fn store(&self, credential: &str) -> Result<Place, CredentialError> {
        if let Some(keyring) = &self.keyring {
            match keyring.store(credential) {
                Ok(()) => match self.file.delete() {
                    Ok(()) => return Ok(Place::Keyring),
                    // The file must not hold an older credential than the keyring: overwrite it.
                    Err(e) => tracing::warn!("the device credential's old file could not be removed: {e}"),
                },
                Err(e) => tracing::warn!("the device credential goes to a private file: {e}"),
            }
        }
        self.file.store(credential)?;
        Ok(Place::File)
    }

    /// Forgets the credential in both places.
    pub fn delete(&self) -> Result<(), CredentialError> {
        self.file.delete()?;
        if let Some(keyring) = &self.keyring {
            keyring.delete()?;
        }
        Ok(())
    }
}

/// The keyring entry of one data directory.
#[derive(Debug)]
struct Keyring {
    service: String,
    /// The data directory's canonical path.
    user: String,
}

impl Keyring {
    #[cfg(target_os = "linux")]
    fn entry(&self) -> secret_service::Entry<'_> {
        secret_service::Entry::new(&self.service, &self.user)
    }

    #[cfg(target_os = "linux")]
    fn load(&self) -> Result<Option<String>, CredentialError> {
        self.entry().load()
    }

    #[cfg(target_os = "linux")]
    fn store(&self, credential: &str) -> Result<(), CredentialError> {
        self.entry().store(credential)
    }

    #[cfg(target_os = "linux")]
    fn delete(&self) -> Result<(), CredentialError> {
        self.entry().delete()
    }

    #[cfg(not(target_os = "linux"))]
    fn load(&self) -> Result<Option<String>, CredentialError> {
        Err(CredentialError::Keyring("no keyring support on this system".to_owned()))
    }

    #[cfg(not(target_os = "linux"))]
    fn store(&self, _credential: &str) -> Result<(), CredentialError> {
        self.load().map(|_| ())
    }

    #[cfg(not(target_os = "linux"))]
    fn delete(&self) -> Result<(), CredentialError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn without_a_keyring_the_credential_is_a_private_file() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let credential = DeviceCredential::file_only(dir.path());
        assert_eq!(credential.load().unwrap(), None);
        assert_eq!(credential.store("secret-1").unwrap(), Place::File);
        assert_eq!(credential.store("secret-2").unwrap(), Place::File);
        assert_eq!(credential.load().unwrap().as_deref(), Some("secret-2"));
        let mode = std::fs::metadata(credential.file_path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(credential.file_path(), dir.path().join(CREDENTIAL_FILE));
        credential.delete().unwrap();
        assert_eq!(credential.load().unwrap(), None);
        assert!(!credential.file_path().exists());
    }
}
