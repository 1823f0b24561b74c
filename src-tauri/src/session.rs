//! Who is signed in at this terminal. A sign-in asks the server when it answers; when it does
//! not, a user who signed in here online before (within [`OFFLINE_GRACE_DAYS`]) gets in with
//! the same password, checked against this terminal's own hash. The role decides which actions
//! the window offers and which commands run, by the same table the server uses.

use crate::error::AppError;
use chrono::{DateTime, Duration, Utc};
use pos_core::password::{hash_password, verify_password};
use pos_core::{Action, Role};
use pos_store::KnownUser;
use pos_sync::{lock, SyncError, UserClient};
use serde::Serialize;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// How long after their last online sign-in a user may still sign in offline. A user removed
/// or demoted on the server loses offline access at the latest this long after.
pub const OFFLINE_GRACE_DAYS: i64 = 14;

/// The signed-in user as the window sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionInfo {
    pub user_id: Uuid,
    pub username: String,
    pub role: Role,
    pub actions: Vec<Action>,
    /// Signed in against this terminal's memory while the server was out of reach: the
    /// back-office calls that need the server ask for the password again.
    pub offline: bool,
}

#[derive(Debug)]
pub struct Session {
    pub info: SessionInfo,
    /// The server session, when the sign-in went through the server.
    pub client: Option<Arc<UserClient>>,
}

/// The current session, if anyone is signed in.
#[derive(Debug, Default)]
pub struct Sessions(Mutex<Option<Session>>);

impl Sessions {
    pub fn info(&self) -> Option<SessionInfo> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|s| s.info.clone())
    }

    pub fn set(&self, session: Option<Session>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = session;
    }

    /// The current session if its role may do `action`, read under the lock by `read`.
    fn allowed<T>(&self, action: Action, read: impl FnOnce(&Session) -> T) -> Result<T, AppError> {
        let guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let session = guard.as_ref().ok_or(AppError::SignedOut)?;
        if !session.info.role.can(action) {
            return Err(AppError::Forbidden);
        }
        Ok(read(session))
    }

    /// The signed-in user if their role may do `action`.
    pub fn require(&self, action: Action) -> Result<SessionInfo, AppError> {
        self.allowed(action, |s| s.info.clone())
    }

    /// The server session of a user allowed `action`; a session opened offline has none.
    pub fn client(&self, action: Action) -> Result<Arc<UserClient>, AppError> {
        self.allowed(action, |s| s.client.clone())?.ok_or(AppError::SessionOffline)
    }

    /// The server no longer accepts this session's tokens: keep the user signed in here, as if
    /// they had signed in offline, so the screens that need the server ask for the password.
    pub fn lost_server(&self) {
        if let Some(session) = self.0.lock().unwrap_or_else(|p| p.into_inner()).as_mut() {
            session.client = None;
            session.info.offline = true;
        }
    }
}

fn random_salt() -> [u8; 16] {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("system randomness");
    salt
}

/// Whether a remembered user may open an offline session now.
pub fn offline_sign_in_allowed(user: &KnownUser, organization_id: Uuid, now: DateTime<Utc>) -> bool {
    user.organization_id == organization_id && now - user.last_online_sign_in <= Duration::days(OFFLINE_GRACE_DAYS)
}

/// Checks `password` against an argon2id `hash` off the async threads (it takes tens of ms).
async fn verify(password: &str, hash: String) -> bool {
    let password = password.to_owned();
    tokio::task::spawn_blocking(move || verify_password(&password, &hash)).await.expect("verifying does not panic")
}

fn wrong_password() -> AppError {
    AppError::Field { field: "password", en: "Wrong username or password", es: "Usuario o contraseña incorrectos" }
}

/// Signs `username` in: through the server at `server_url` when it answers, otherwise from what
/// this terminal remembers. `store` is the terminal's store (locked only for local steps).
pub async fn sign_in(
    store: &Mutex<pos_store::Store>,
    server_url: Option<&str>,
    username: &str,
    password: &str,
) -> Result<Session, AppError> {
    let username = username.trim();
    if username.is_empty() {
        return Err(AppError::Field { field: "username", en: "Enter your username", es: "Escriba su usuario" });
    }
    if password.is_empty() {
        return Err(AppError::Field { field: "password", en: "Enter your password", es: "Escriba su contraseña" });
    }
    let server_url = server_url.ok_or(AppError::Field {
        field: "username",
        en: "Register this terminal with the server before anyone signs in",
        es: "Registre esta caja con el servidor antes de iniciar sesión",
    })?;
    let organization_id = lock(store).identity().organization_id;
    match UserClient::sign_in(server_url, username, password).await {
        Ok((client, me)) => {
            if me.organization_id != organization_id {
                return Err(AppError::Field {
                    field: "username",
                    en: "This user belongs to another organisation",
                    es: "Este usuario pertenece a otra organización",
                });
            }
            let password = password.to_owned();
            let hash = tokio::task::spawn_blocking(move || hash_password(&password, random_salt()))
                .await
                .expect("hashing does not panic");
            lock(store).remember_user(&KnownUser {
                id: me.id,
                username: me.username.clone(),
                organization_id: me.organization_id,
                role: me.role,
                password_hash: hash,
                last_online_sign_in: Utc::now(),
            })?;
            Ok(Session {
                info: SessionInfo {
                    user_id: me.id,
                    username: me.username,
                    role: me.role,
                    actions: me.actions,
                    offline: false,
                },
                client: Some(Arc::new(client)),
            })
        }
        Err(SyncError::Unauthorized) => {
            // The server refused the very password remembered here (it was changed, or the user
            // removed): it must not open an offline session either. A mistyped password
            // forgets nothing.
            let known = lock(store).known_user(username)?;
            if let Some(user) = known {
                if verify(password, user.password_hash).await {
                    lock(store).forget_user(username)?;
                }
            }
            Err(wrong_password())
        }
        Err(e) if e.is_transient() => {
            tracing::info!("server unreachable for sign-in ({e}); trying this terminal's known users");
            let known = lock(store).known_user(username)?;
            let Some(user) = known.filter(|u| offline_sign_in_allowed(u, organization_id, Utc::now())) else {
                return Err(AppError::Field {
                    field: "username",
                    en: "The server is unreachable and this user has not signed in here recently",
                    es: "El servidor no responde y este usuario no ha iniciado sesión aquí recientemente",
                });
            };
            if !verify(password, user.password_hash.clone()).await {
                return Err(wrong_password());
            }
            Ok(Session {
                info: SessionInfo {
                    user_id: user.id,
                    username: user.username,
                    role: user.role,
                    actions: user.role.actions(),
                    offline: true,
                },
                client: None,
            })
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(days_ago: i64, org: u128) -> KnownUser {
        KnownUser {
            id: Uuid::from_u128(1),
            username: "gerente".into(),
            organization_id: Uuid::from_u128(org),
            role: Role::Manager,
            password_hash: String::new(),
            last_online_sign_in: Utc::now() - Duration::days(days_ago),
        }
    }

    #[test]
    fn offline_sign_in_needs_a_recent_online_one_in_the_same_organisation() {
        let now = Utc::now();
        assert!(offline_sign_in_allowed(&known(1, 7), Uuid::from_u128(7), now));
        assert!(!offline_sign_in_allowed(&known(OFFLINE_GRACE_DAYS + 1, 7), Uuid::from_u128(7), now));
        assert!(!offline_sign_in_allowed(&known(1, 8), Uuid::from_u128(7), now));
    }

    #[test]
    fn roles_gate_actions() {
        let sessions = Sessions::default();
        assert!(matches!(sessions.require(Action::LookUp), Err(AppError::SignedOut)));
        let info = SessionInfo {
            user_id: Uuid::from_u128(1),
            username: "cajero".into(),
            role: Role::Cashier,
            actions: Role::Cashier.actions(),
            offline: true,
        };
        sessions.set(Some(Session { info, client: None }));
        assert!(sessions.require(Action::Capture).is_ok());
        assert!(matches!(sessions.require(Action::BulkActions), Err(AppError::Forbidden)));
        assert!(matches!(sessions.client(Action::LookUp), Err(AppError::SessionOffline)));
    }
}
