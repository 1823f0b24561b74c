//! Users known to this terminal: whoever signed in here while it was online, remembered so the
//! same person can sign in again while the branch is offline.

use crate::rows::{get_ts, get_uuid, ts};
use crate::{Result, Store, StoreError};
use chrono::{DateTime, Utc};
use pos_core::Role;
use rusqlite::OptionalExtension;
use uuid::Uuid;

/// A user as this terminal remembers them from their last online sign-in.
#[derive(Clone, PartialEq, Eq)]
pub struct KnownUser {
    pub id: Uuid,
    pub username: String,
    pub organization_id: Uuid,
    pub role: Role,
    /// This terminal's own argon2id hash of the password (PHC string), never the server's.
    pub password_hash: String,
    pub last_online_sign_in: DateTime<Utc>,
}

impl std::fmt::Debug for KnownUser {
    /// Without the hash: a debug line in a log must not carry it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KnownUser")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("organization_id", &self.organization_id)
            .field("role", &self.role)
            .field("last_online_sign_in", &self.last_online_sign_in)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Remembers `user` after an online sign-in, replacing what was known about them (and any
    /// other user who held the same username before).
    pub fn remember_user(&mut self, user: &KnownUser) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM known_users WHERE username = ?1 AND id <> ?2", (&user.username, user.id.to_string()))?;
        tx.execute(
            "INSERT INTO known_users (id, username, organization_id, role, password_hash, last_online_sign_in)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(id) DO UPDATE SET username = excluded.username, organization_id = excluded.organization_id,
                 role = excluded.role, password_hash = excluded.password_hash,
                 last_online_sign_in = excluded.last_online_sign_in",
            (
                user.id.to_string(),
                &user.username,
                user.organization_id.to_string(),
                user.role.as_str(),
                &user.password_hash,
                ts(&user.last_online_sign_in),
            ),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The user known by `username`, if they signed in here before.
    pub fn known_user(&self, username: &str) -> Result<Option<KnownUser>> {
        let row = self
            .conn
            .query_row(
                "SELECT id, username, organization_id, role, password_hash, last_online_sign_in
                 FROM known_users WHERE username = ?1",
                [username],
                |r| {
                    Ok((
                        get_uuid(r, 0)?,
                        r.get::<_, String>(1)?,
                        get_uuid(r, 2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        get_ts(r, 5)?,
                    ))
                },
            )
            .optional()?;
        row.map(|(id, username, organization_id, role, password_hash, last_online_sign_in)| {
            let role = Role::parse(&role).ok_or_else(|| StoreError::Corrupt(format!("unknown role {role:?}")))?;
            Ok(KnownUser { id, username, organization_id, role, password_hash, last_online_sign_in })
        })
        .transpose()
    }

    /// Forgets `username` (the server refused their password, so the old one must not open an
    /// offline session either). Returns whether they were known.
    pub fn forget_user(&mut self, username: &str) -> Result<bool> {
        Ok(self.conn.execute("DELETE FROM known_users WHERE username = ?1", [username])? > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: u128, username: &str, role: Role) -> KnownUser {
        KnownUser {
            id: Uuid::from_u128(id),
            username: username.to_owned(),
            organization_id: Uuid::from_u128(9),
            role,
            password_hash: format!("$argon2id$hash-of-{id}"),
            last_online_sign_in: "2026-11-20T10:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn a_user_is_remembered_updated_and_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("t.db")).unwrap();
        assert_eq!(store.known_user("gerente").unwrap(), None);
        store.remember_user(&user(1, "gerente", Role::Cashier)).unwrap();
        let promoted = KnownUser { role: Role::Manager, ..user(1, "gerente", Role::Manager) };
        store.remember_user(&promoted).unwrap();
        assert_eq!(store.known_user("gerente").unwrap(), Some(promoted));

        // The username now belongs to someone else: the old holder is gone.
        store.remember_user(&user(2, "gerente", Role::Cashier)).unwrap();
        assert_eq!(store.known_user("gerente").unwrap().map(|u| u.id), Some(Uuid::from_u128(2)));

        assert!(store.forget_user("gerente").unwrap());
        assert!(!store.forget_user("gerente").unwrap());
        assert_eq!(store.known_user("gerente").unwrap(), None);
    }
}
