//! The terminal's sync client. A round pushes the outbox oldest first in batches (customers are
//! queued before the sales that reference them, so order is enough), applies each answer, then
//! pulls pages until the terminal has everything. The loop repeats on a timer, retries failures
//! with exponential backoff and jitter, and holds the store's uploader lock (an OS file lock,
//! released when its holder dies) for the whole round, so only one uploader runs per terminal.
//!
//! A round talks to the server through a [`Transport`]: [`SyncClient`] over HTTP, or anything
//! else that answers pushes and pulls (an in-process simulation with injected faults).
//!
//! The store is shared behind a mutex that is taken only for local steps and never held across
//! a network wait, so the counter's lookups and captures go on while a round talks to the server.

mod back_office;

pub use back_office::{Me, Merged, ReviewCustomer, ReviewItem, UserClient};

use chrono::Utc;
use pos_core::wire::{Change, PullResponse, PushRequest, PushResponse, MAX_PULL_PAGE, MAX_PUSH_CHANGES};
use pos_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use uuid::Uuid;

/// Changes per push request, at most: the protocol's [`MAX_PUSH_CHANGES`].
pub const PUSH_BATCH: u32 = MAX_PUSH_CHANGES as u32;
/// Serialised changes per push request, at most: well under the server's 8 MiB body limit, so a
/// batch is never refused for its size. A new customer's change is about 1.4 KiB of JSON, so a
/// push of new customers carries about 4,400 of them.
pub const PUSH_BYTES: usize = 6 * 1024 * 1024;
/// Rows per pull page: the protocol's [`MAX_PULL_PAGE`].
pub const PULL_PAGE: i64 = MAX_PULL_PAGE;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("server unreachable: {0}")]
    Network(#[from] reqwest::Error),
    #[error("server answered {status}: {body}")]
    Server { status: u16, body: String },
    #[error("the server refused this terminal's credential")]
    Unauthorized,
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A transport other than HTTP lost the request or its answer (a simulated cut): transient,
    /// like [`SyncError::Network`].
    #[error("transport failed: {0}")]
    Transport(String),
    #[error("another uploader is syncing this terminal")]
    Busy,
}

impl SyncError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Network(_) | SyncError::Transport(_) | SyncError::Busy => true,
            SyncError::Server { status, .. } => *status >= 500 || *status == 429,
            SyncError::Unauthorized | SyncError::Store(_) => false,
        }
    }
}

/// What the server gives a terminal that registers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Registration {
    pub device_id: Uuid,
    pub organization_id: Uuid,
    pub branch_id: Option<Uuid>,
    pub credential: String,
}

/// HTTP access to one sync server with one device credential.
#[derive(Debug, Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    base: String,
    credential: String,
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

async fn check(res: reqwest::Response) -> Result<reqwest::Response, SyncError> {
    let status = res.status();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Err(SyncError::Unauthorized);
    }
    if !status.is_success() {
        let body = res.text().await.unwrap_or_default();
        return Err(SyncError::Server { status: status.as_u16(), body });
    }
    Ok(res)
}

/// Registers this terminal, known by `device_id` (the id its changes carry), with a one-time
/// code an admin issued.
pub async fn register(base: &str, code: &str, name: &str, device_id: Uuid) -> Result<Registration, SyncError> {
    let body = serde_json::json!({ "code": code, "name": name, "device_id": device_id });
    let res = http().post(format!("{}/api/v1/devices/register", base.trim_end_matches('/'))).json(&body).send().await?;
    Ok(check(res).await?.json().await?)
}

impl SyncClient {
    pub fn new(base: &str, credential: &str) -> Self {
        Self { http: http(), base: base.trim_end_matches('/').to_owned(), credential: credential.to_owned() }
    }

    pub async fn push(&self, request: &PushRequest) -> Result<PushResponse, SyncError> {
        let res = self
            .http
            .post(format!("{}/api/v1/sync/push", self.base))
            .header("authorization", format!("Device {}", self.credential))
            .json(request)
            .send()
            .await?;
        Ok(check(res).await?.json().await?)
    }

    pub async fn pull(&self, cursor: i64) -> Result<PullResponse, SyncError> {
        let res = self
            .http
            .get(format!("{}/api/v1/sync/pull", self.base))
            .query(&[("cursor", cursor), ("limit", PULL_PAGE)])
            .header("authorization", format!("Device {}", self.credential))
            .send()
            .await?;
        Ok(check(res).await?.json().await?)
    }
}

/// How a round reaches the server: one push of a batch, one pull of a page.
///
/// An implementation answers a push with one result per change, in order, or fails as a whole;
/// a failure that may pass (a lost connection) should be transient ([`SyncError::Network`],
/// [`SyncError::Transport`], a 5xx [`SyncError::Server`]) so the loop retries it. Whether the
/// server applied a failed push does not matter: the changes stay queued and the server treats
/// a replay as a no-op. `Clone + Send + Sync + 'static` because the next pull page is fetched
/// on a task of its own while the current one is applied.
pub trait Transport: Clone + Send + Sync + 'static {
    /// Sends one batch of outbox entries.
    fn push(&self, request: &PushRequest) -> impl Future<Output = Result<PushResponse, SyncError>> + Send;
    /// Fetches the page of changes after `cursor`.
    fn pull(&self, cursor: i64) -> impl Future<Output = Result<PullResponse, SyncError>> + Send;
}

impl Transport for SyncClient {
    fn push(&self, request: &PushRequest) -> impl Future<Output = Result<PushResponse, SyncError>> + Send {
        SyncClient::push(self, request)
    }

    fn pull(&self, cursor: i64) -> impl Future<Output = Result<PullResponse, SyncError>> + Send {
        SyncClient::pull(self, cursor)
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub pushed: usize,
    pub acknowledged: usize,
    pub merged: usize,
    pub rejected: usize,
    pub pulled: usize,
    pub pending: u64,
}

/// Locks the shared store for one local step. A panic in an earlier step rolled its transaction
/// back when it unwound, so a poisoned lock still guards a consistent store.
pub fn lock(store: &Mutex<Store>) -> MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One round: push everything pending, then pull until up to date. An entry leaves the outbox
/// only with the server's answer for it; a failure part-way leaves the rest for the next round.
/// [`SyncError::Busy`] when another round of this terminal (in this process or another) is
/// under way: the uploader lock is held from the first push to the last pull, however long
/// that takes, and the OS drops it if the process dies.
pub async fn sync_once<T: Transport>(store: &Mutex<Store>, transport: &T) -> Result<SyncReport, SyncError> {
    let Some(_uploader) = lock(store).uploader_lock()? else {
        return Err(SyncError::Busy);
    };
    round(store, transport).await
}

async fn round<T: Transport>(store: &Mutex<Store>, client: &T) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    loop {
        let mut batch = lock(store).pending_changes(PUSH_BATCH)?;
        if batch.is_empty() {
            break;
        }
        batch.truncate(push_len(batch.iter().map(|entry| &entry.change)));
        let request = PushRequest { changes: batch.iter().map(|e| e.change.clone()).collect() };
        let answer = client.push(&request).await?;
        let applied = lock(store).apply_push_results(&answer.results)?;
        report.pushed += batch.len();
        report.acknowledged += applied.acknowledged;
        report.merged += applied.merged;
        report.rejected += applied.rejected;
        if applied.acknowledged + applied.merged + applied.rejected == 0 {
            // The server answered none of what we sent: stop rather than spin.
            break;
        }
    }
    // A new terminal loads everything first and indexes it once at the end.
    let bulk = {
        let mut local = lock(store);
        local.pull_cursor()? == 0 && local.begin_bulk_load()?
    };
    let pulled = pull_all(store, client, &mut report).await;
    if bulk {
        lock(store).finish_bulk_load()?;
    }
    pulled?;
    let store = lock(store);
    store.note_synced(Utc::now())?;
    report.pending = store.pending_count()?;
    Ok(report)
}

/// How many of the first `changes` one push request carries: at most [`PUSH_BATCH`] and
/// [`PUSH_BYTES`] of JSON, and at least one (a change too large on its own is sent alone, and
/// the server answers it).
pub fn push_len<'a>(changes: impl IntoIterator<Item = &'a Change>) -> usize {
    let mut bytes = 0;
    let mut n = 0;
    for change in changes.into_iter().take(PUSH_BATCH as usize) {
        bytes += serde_json::to_vec(change).map_or(0, |json| json.len()) + 1;
        if bytes > PUSH_BYTES && n > 0 {
            break;
        }
        n += 1;
    }
    n
}

/// Pulls and applies pages until the terminal has everything. The next page is fetched while
/// this one is applied (on a multi-threaded runtime the two overlap): it starts at this page's
/// cursor, which is where the store will be once this page commits, and is dropped if it does
/// not.
async fn pull_all<T: Transport>(store: &Mutex<Store>, client: &T, report: &mut SyncReport) -> Result<(), SyncError> {
    let cursor = lock(store).pull_cursor()?;
    let mut page = client.pull(cursor).await?;
    loop {
        let next = page.has_more.then(|| {
            let (client, cursor) = (client.clone(), page.cursor);
            tokio::spawn(async move { client.pull(cursor).await })
        });
        report.pulled += page.items.len();
        let applied = lock(store).apply_pull(&page.items, page.cursor);
        if let Err(e) = applied {
            next.inspect(tokio::task::JoinHandle::abort);
            return Err(e.into());
        }
        let Some(next) = next else { return Ok(()) };
        page = match next.await {
            Ok(fetched) => fetched?,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
    }
}

/// Delay before retry `attempt` (1-based): 1 s doubling to a 60 s ceiling, each ±25 % at random
/// so terminals that lost the network together do not return in step.
pub fn backoff(attempt: u32) -> Duration {
    let base = 1_000u64.saturating_mul(1 << attempt.saturating_sub(1).min(6)).min(60_000);
    let mut r = [0u8; 2];
    let _ = getrandom::fill(&mut r);
    let spread = u64::from(u16::from_le_bytes(r)) % (base / 2 + 1);
    Duration::from_millis(base - base / 4 + spread)
}

/// Syncs every `interval`, and after a failure retries with [`backoff`] until it succeeds.
/// `on_round` sees each result (the desktop app turns them into status events). Stops when
/// `stop` resolves.
pub async fn run_loop<T: Transport>(
    store: &Mutex<Store>,
    client: &T,
    interval: Duration,
    mut on_round: impl FnMut(&Result<SyncReport, SyncError>),
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    let mut failures = 0u32;
    loop {
        let result = sync_once(store, client).await;
        on_round(&result);
        let wait = match &result {
            Ok(_) => {
                failures = 0;
                interval
            }
            Err(e) if e.is_transient() => {
                failures += 1;
                backoff(failures)
            }
            Err(_) => interval.max(Duration::from_secs(30)),
        };
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_a_ceiling_with_jitter() {
        for attempt in 1..20 {
            let d = backoff(attempt).as_millis() as u64;
            let base = (1_000u64 << (attempt - 1).min(6)).min(60_000);
            assert!(d >= base * 3 / 4 && d <= base * 5 / 4, "attempt {attempt}: {d} ms vs base {base}");
        }
        let samples: std::collections::HashSet<_> = (0..20).map(|_| backoff(5)).collect();
        assert!(samples.len() > 1, "jitter varies the delay");
    }

    /// A new customer's change with `notes` of `len` characters (and only the notes when
    /// `len` is 0, an edit of about 200 bytes).
    fn change(len: usize) -> Change {
        let mut c = pos_core::Customer::blank(Uuid::now_v7(), Uuid::now_v7(), Utc::now());
        c.first_name = "Ana".into();
        c.notes = Some("x".repeat(len));
        pos_core::wire::Change {
            change_id: Uuid::now_v7(),
            device_id: Uuid::now_v7(),
            body: pos_core::wire::ChangeBody::Customer {
                id: c.id,
                fields: c.to_fields().into_iter().filter(|(name, _)| len > 0 || name == "notes").collect(),
            },
        }
    }

    #[test]
    fn a_push_holds_at_most_push_batch_changes_and_push_bytes_of_json() {
        let small: Vec<Change> = (0..PUSH_BATCH + 10).map(|_| change(0)).collect();
        assert_eq!(push_len(&small), PUSH_BATCH as usize);
        assert_eq!(push_len(&small[..3]), 3);
        assert_eq!(push_len(&[] as &[Change]), 0);

        let large: Vec<Change> = (0..40).map(|_| change(300_000)).collect();
        let n = push_len(&large);
        assert!(n > 1 && n < 40, "{n}");
        let body = serde_json::to_vec(&PushRequest { changes: large[..n].to_vec() }).unwrap().len();
        assert!(body <= PUSH_BYTES + 64, "{body} bytes");
        let one_more = serde_json::to_vec(&PushRequest { changes: large[..n + 1].to_vec() }).unwrap().len();
        assert!(one_more > PUSH_BYTES, "as many as fit");

        let huge = [change(PUSH_BYTES), change(10)];
        assert_eq!(push_len(&huge), 1, "a change too large on its own still goes, alone");
    }
}
