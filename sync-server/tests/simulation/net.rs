//! The simulated network between terminals and the server: the sync client's transport, calling
//! the server's real storage and planner in process, and losing, repeating, delaying or cutting
//! requests as the history's seed says.

use super::rng::Rng;
use pos_core::wire::{PullResponse, PushRequest, PushResponse};
use pos_core::HlcClock;
use pos_sync::{SyncError, Transport};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use sync_server::db::Db;
use uuid::Uuid;

/// Rows per pull page: small, so every pull of a history crosses pages.
const PAGE: i64 = 7;

/// The server: its database file, reopened on a restart, and its clock.
#[derive(Debug)]
pub struct Server {
    url: String,
    db: RwLock<Db>,
    pub org: Uuid,
    clock: Mutex<Arc<Mutex<HlcClock>>>,
    /// Storage errors the server met: each would have been a 5xx.
    pub errors: Mutex<Vec<String>>,
}

impl Server {
    pub async fn start(url: String) -> Server {
        let db = Db::connect(&url).await.expect("server database");
        let org = db.create_organization(&format!("sim-{}", Uuid::now_v7())).await.expect("organisation");
        Server { url, db: RwLock::new(db), org, clock: Mutex::new(new_clock()), errors: Mutex::default() }
    }

    pub fn db(&self) -> Db {
        self.db.read().expect("server lock").clone()
    }

    pub fn clock(&self) -> Arc<Mutex<HlcClock>> {
        self.clock.lock().expect("clock lock").clone()
    }

    /// Stops and starts the server: a new process with a new clock on the same database.
    pub async fn restart(&self) {
        let db = Db::connect(&self.url).await.expect("server database after a restart");
        *self.db.write().expect("server lock") = db;
        *self.clock.lock().expect("clock lock") = new_clock();
    }

    pub async fn push(&self, device: Uuid, request: &PushRequest) -> Result<PushResponse, SyncError> {
        let pushed = self.db().push(self.org, device, request.changes.clone(), &self.clock()).await;
        pushed.map_err(|e| self.failed(e))
    }

    pub async fn pull(&self, cursor: i64, limit: i64) -> Result<PullResponse, SyncError> {
        self.db().pull(self.org, cursor, limit).await.map_err(|e| self.failed(e))
    }

    fn failed(&self, e: sync_server::db::DbError) -> SyncError {
        self.errors.lock().expect("errors lock").push(e.to_string());
        SyncError::Transport(format!("server error: {e}"))
    }
}

/// A server instance's clock, as `AppState::new` makes it: a node of its own, from zero.
fn new_clock() -> Arc<Mutex<HlcClock>> {
    Arc::new(Mutex::new(HlcClock::new(Uuid::now_v7().as_u64_pair().1, pos_core::Hlc::ZERO)))
}

/// What the network did to a history's requests.
#[derive(Debug, Default)]
pub struct Faults {
    pub dropped: AtomicUsize,
    pub cut_after_applied: AtomicUsize,
    pub duplicated: AtomicUsize,
    pub delayed: AtomicUsize,
    pub pulls_lost: AtomicUsize,
}

impl Faults {
    pub fn total(&self) -> usize {
        [&self.dropped, &self.cut_after_applied, &self.duplicated, &self.delayed, &self.pulls_lost]
            .iter()
            .map(|n| n.load(Ordering::Relaxed))
            .sum()
    }
}

/// One terminal's link to the server.
#[derive(Debug, Clone)]
pub struct Link {
    inner: Arc<LinkInner>,
}

#[derive(Debug)]
struct LinkInner {
    server: Arc<Server>,
    device: Uuid,
    rng: Mutex<Rng>,
    faulty: AtomicBool,
    /// Pushes sent but not yet arrived: they reach the server later, out of order.
    in_flight: Mutex<Vec<PushRequest>>,
    faults: Arc<Faults>,
}

impl Link {
    pub fn new(server: Arc<Server>, device: Uuid, rng: Rng, faults: Arc<Faults>) -> Link {
        let inner = LinkInner {
            server,
            device,
            rng: Mutex::new(rng),
            faulty: AtomicBool::new(true),
            in_flight: Mutex::default(),
            faults,
        };
        Link { inner: Arc::new(inner) }
    }

    /// Faults on or off (off while the history heals).
    pub fn set_faulty(&self, faulty: bool) {
        self.inner.faulty.store(faulty, Ordering::Relaxed);
    }

    /// Delivers the oldest delayed push, if any (its answer goes nowhere).
    pub async fn deliver_delayed(&self) {
        let next = {
            let mut in_flight = self.inner.in_flight.lock().expect("in-flight lock");
            (!in_flight.is_empty()).then(|| in_flight.remove(0))
        };
        if let Some(request) = next {
            let _ = self.inner.server.push(self.inner.device, &request).await;
        }
    }

    pub fn delayed(&self) -> usize {
        self.inner.in_flight.lock().expect("in-flight lock").len()
    }

    /// A number in `0..100` when faults are on; 100 (deliver) when off.
    fn fate(&self) -> usize {
        if self.inner.faulty.load(Ordering::Relaxed) {
            self.inner.rng.lock().expect("rng lock").below(100)
        } else {
            100
        }
    }
}

fn count(n: &AtomicUsize) {
    n.fetch_add(1, Ordering::Relaxed);
}

impl Transport for Link {
    async fn push(&self, request: &PushRequest) -> Result<PushResponse, SyncError> {
        let (server, device, faults) = (&self.inner.server, self.inner.device, &self.inner.faults);
        match self.fate() {
            0..8 => {
                count(&faults.dropped);
                Err(SyncError::Transport("connection refused".into()))
            }
            8..16 => {
                server.push(device, request).await?;
                count(&faults.cut_after_applied);
                Err(SyncError::Transport("connection reset after the request was sent".into()))
            }
            16..22 => {
                count(&faults.duplicated);
                server.push(device, request).await?;
                server.push(device, request).await
            }
            22..28 => {
                count(&faults.delayed);
                self.inner.in_flight.lock().expect("in-flight lock").push(request.clone());
                Err(SyncError::Transport("timed out".into()))
            }
            _ => server.push(device, request).await,
        }
    }

    async fn pull(&self, cursor: i64) -> Result<PullResponse, SyncError> {
        if self.fate() < 8 {
            count(&self.inner.faults.pulls_lost);
            return Err(SyncError::Transport("connection reset".into()));
        }
        self.inner.server.pull(cursor, PAGE).await
    }
}
