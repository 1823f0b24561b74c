//! The background sync worker: pushes and pulls on a timer, at once after a local change, and
//! every few seconds while the server is unreachable so a branch that comes back online syncs
//! right away. Each round's outcome becomes a `sync-status` event for the window.

use chrono::{DateTime, Utc};
use pos_store::Store;
use pos_sync::{lock, SyncClient, SyncError};
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tauri::{AppHandle, Emitter, Runtime};
use tokio::sync::Notify;

/// Between rounds while online: short, so a customer captured at one branch shows up at the
/// others within about two seconds (DESIGN.md's propagation target).
const ONLINE_INTERVAL: Duration = Duration::from_secs(1);
/// Retries while offline back off for this many steps only (1 s, 2 s, then 4 s ± 25 %), so the
/// first round after the network returns starts within seconds.
const OFFLINE_RETRY_STEPS: u32 = 3;

/// Where the terminal stands with its server, as the status bar shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    /// Not registered with a server yet.
    Unregistered,
    /// No round has finished yet.
    Connecting,
    Online,
    Offline,
    /// The server refused this terminal's credential.
    Refused,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncStatus {
    pub connection: Connection,
    pub pending: u64,
    pub rejected: u64,
    pub last_sync: Option<DateTime<Utc>>,
    /// When a round last brought changes from the server: screens showing lists re-read then.
    pub pulled_at: Option<DateTime<Utc>>,
}

/// The handle commands use to read the status and to wake the worker.
#[derive(Debug, Clone)]
pub struct SyncWorker {
    wake: Arc<Notify>,
    connection: Arc<Mutex<Connection>>,
    client: Arc<Mutex<Option<SyncClient>>>,
    pulled_at: Arc<Mutex<Option<DateTime<Utc>>>>,
}

impl SyncWorker {
    /// Starts the worker for `store`, syncing with `client` when there is one.
    pub fn start<R: Runtime>(app: AppHandle<R>, store: Arc<Mutex<Store>>, client: Option<SyncClient>) -> Self {
        let initial = if client.is_some() { Connection::Connecting } else { Connection::Unregistered };
        let worker = Self {
            wake: Arc::new(Notify::new()),
            connection: Arc::new(Mutex::new(initial)),
            client: Arc::new(Mutex::new(client)),
            pulled_at: Arc::new(Mutex::new(None)),
        };
        let handle = worker.clone();
        tauri::async_runtime::spawn(async move { handle.run(app, store).await });
        worker
    }

    /// Points the worker at a (new) server and syncs at once.
    pub fn set_client(&self, client: SyncClient) {
        *self.client.lock().expect("client lock") = Some(client);
        *self.connection.lock().expect("status lock") = Connection::Connecting;
        self.wake.notify_one();
    }

    /// Something was written locally: push it now rather than at the next tick.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub fn status(&self, store: &Store) -> Result<SyncStatus, pos_store::StoreError> {
        Ok(SyncStatus {
            connection: *self.connection.lock().expect("status lock"),
            pending: store.pending_count()?,
            rejected: store.rejected_count()?,
            last_sync: store.last_synced()?,
            pulled_at: *self.pulled_at.lock().expect("status lock"),
        })
    }

    /// Sends the current status to the window.
    pub fn announce<R: Runtime>(&self, app: &AppHandle<R>, store: &Mutex<Store>) {
        match self.status(&lock(store)) {
            Ok(status) => {
                let _ = app.emit("sync-status", status);
            }
            Err(e) => tracing::error!("reading sync status: {e}"),
        }
    }

    async fn run<R: Runtime>(self, app: AppHandle<R>, store: Arc<Mutex<Store>>) {
        let mut failures = 0u32;
        loop {
            let client = self.client.lock().expect("client lock").clone();
            let wait = match client {
                None => Duration::from_secs(3600),
                Some(client) => {
                    let result = pos_sync::sync_once(&store, &client).await;
                    let (connection, wait) = match &result {
                        Ok(report) => {
                            failures = 0;
                            if report.pulled > 0 || report.merged > 0 {
                                *self.pulled_at.lock().expect("status lock") = Some(Utc::now());
                            }
                            (Connection::Online, ONLINE_INTERVAL)
                        }
                        Err(SyncError::Busy) => (*self.connection.lock().expect("status lock"), ONLINE_INTERVAL),
                        Err(SyncError::Unauthorized) => (Connection::Refused, Duration::from_secs(60)),
                        Err(e) => {
                            failures += 1;
                            if !e.is_transient() {
                                tracing::warn!("sync round failed: {e}");
                            }
                            (Connection::Offline, pos_sync::backoff(failures.min(OFFLINE_RETRY_STEPS)))
                        }
                    };
                    *self.connection.lock().expect("status lock") = connection;
                    wait
                }
            };
            self.announce(&app, &store);
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }
}
