//! The credential as an item of the Secret Service's default collection (GNOME Keyring, KWallet),
//! found by the attributes `service` and `username` (the keyring crate's convention, so
//! `secret-tool lookup service <service> username <data dir>` shows it).

use crate::CredentialError;
use dbus_secret_service::{EncryptionType, Error, SecretService};
use std::collections::HashMap;

/// One entry: the Secret Service item with these attributes.
#[derive(Debug)]
pub(crate) struct Entry<'a> {
    service: &'a str,
    user: &'a str,
}

impl<'a> Entry<'a> {
    pub(crate) fn new(service: &'a str, user: &'a str) -> Self {
        Self { service, user }
    }

    fn attributes(&self) -> HashMap<&str, &str> {
        HashMap::from([("service", self.service), ("username", self.user)])
    }

    /// The stored credential, if there is one.
    pub(crate) fn load(&self) -> Result<Option<String>, CredentialError> {
        let ss = connect()?;
        let found = ss.search_items(self.attributes()).map_err(|e| failed("search", e))?;
        let item = match (found.unlocked.first(), found.locked.first()) {
            (Some(item), _) => item,
            (None, Some(item)) => {
                item.unlock().map_err(|e| failed("unlock the item", e))?;
                item
            }
            (None, None) => return Ok(None),
        };
        let secret = item.get_secret().map_err(|e| failed("read the item", e))?;
        let text = String::from_utf8(secret).map_err(|_| CredentialError::NotText)?;
        Ok(Some(text.trim().to_owned()).filter(|s| !s.is_empty()))
    }

    /// Stores the credential in the default collection, replacing this entry's item.
    pub(crate) fn store(&self, credential: &str) -> Result<(), CredentialError> {
        let ss = connect()?;
        let collection = ss.get_default_collection().map_err(|e| failed("find the default collection", e))?;
        collection.ensure_unlocked().map_err(|e| failed("unlock the default collection", e))?;
        let label = format!("{} device credential ({})", self.service, self.user);
        collection
            .create_item(&label, self.attributes(), credential.as_bytes(), true, "text/plain")
            .map_err(|e| failed("store the item", e))?;
        Ok(())
    }

    /// Removes this entry's items; none is not an error.
    pub(crate) fn delete(&self) -> Result<(), CredentialError> {
        let ss = connect()?;
        let found = ss.search_items(self.attributes()).map_err(|e| failed("search", e))?;
        for item in found.unlocked.iter().chain(&found.locked) {
            item.delete().map_err(|e| failed("delete the item", e))?;
        }
        Ok(())
    }
}

/// A session with the Secret Service over an encrypted transport. Prompts are refused at once
/// (timeout 0): a keyring that wants a password typed is treated as unavailable, never waited on.
fn connect() -> Result<SecretService, CredentialError> {
    SecretService::connect_with_max_prompt_timeout(EncryptionType::Dh, 0).map_err(|e| failed("connect", e))
}

fn failed(action: &str, error: Error) -> CredentialError {
    let why = match error {
        Error::Prompt => "it is locked and would have to ask for a password".to_owned(),
        Error::NoResult => "there is no such collection or item".to_owned(),
        other => other.to_string(),
    };
    CredentialError::Keyring(format!("could not {action}: {why}"))
}
