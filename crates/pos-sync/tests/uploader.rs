//! One uploader per terminal, held by an OS lock: a second round waits its turn (answers busy),
//! and a round whose process was killed leaves nothing behind for the next one to wait out.

use pos_core::wire::{ChangeOutcome, ChangeResult, PullResponse, PushRequest, PushResponse};
use pos_core::CustomerInput;
use pos_store::Store;
use pos_sync::{sync_once, SyncError, Transport};
use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// Set in the child process of the kill test: the store it syncs.
const CHILD_STORE: &str = "POS_SYNC_TEST_HOLDER_STORE";
/// What the child prints once its round is inside a push, holding the lock.
const HOLDING: &str = "holding the uploader lock";

/// A server that accepts every change and has nothing to send. With `gate`, each push first
/// says it has started and then waits to be let through.
#[derive(Debug, Clone, Default)]
struct Answering {
    gate: Option<Arc<(Notify, Notify)>>,
}

impl Transport for Answering {
    async fn push(&self, request: &PushRequest) -> Result<PushResponse, SyncError> {
        if let Some(gate) = &self.gate {
            gate.0.notify_one();
            gate.1.notified().await;
        }
        let results = request
            .changes
            .iter()
            .map(|c| ChangeResult { change_id: c.change_id, outcome: ChangeOutcome::Applied })
            .collect();
        Ok(PushResponse { results })
    }

    async fn pull(&self, cursor: i64) -> Result<PullResponse, SyncError> {
        Ok(PullResponse { items: vec![], cursor, has_more: false })
    }
}

/// A server that takes a push and never answers it.
#[derive(Debug, Clone)]
struct Hanging;

impl Transport for Hanging {
    async fn push(&self, _: &PushRequest) -> Result<PushResponse, SyncError> {
        println!("{HOLDING}");
        std::future::pending().await
    }

    async fn pull(&self, _: i64) -> Result<PullResponse, SyncError> {
        std::future::pending().await
    }
}

/// A server that cannot be reached.
#[derive(Debug, Clone)]
struct Unreachable;

impl Transport for Unreachable {
    async fn push(&self, _: &PushRequest) -> Result<PushResponse, SyncError> {
        Err(SyncError::Transport("connection refused".into()))
    }

    async fn pull(&self, _: i64) -> Result<PullResponse, SyncError> {
        Err(SyncError::Transport("connection refused".into()))
    }
}

fn capture(store: &Mutex<Store>, first: &str) {
    let input = CustomerInput {
        first_name: Some(first.into()),
        surname: Some("Rojas".into()),
        email: Some(format!("{}@example.com", first.to_lowercase())),
        ..Default::default()
    };
    pos_sync::lock(store).create_customer(&input).expect("a valid capture");
}

fn open(path: &Path) -> Mutex<Store> {
    Mutex::new(Store::open(path).expect("store"))
}

/// Not a test on its own: the kill test runs this binary again with [`CHILD_STORE`] set, and
/// this child syncs that store into a push that never returns, until it is killed.
#[tokio::test]
async fn holder_child() {
    let Some(path) = std::env::var_os(CHILD_STORE) else { return };
    let store = open(Path::new(&path));
    let _ = sync_once(&store, &Hanging).await;
    unreachable!("the push never returns");
}

#[tokio::test]
async fn a_round_killed_mid_push_does_not_hold_the_next_one_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("terminal.db");
    capture(&open(&path), "Ana");

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "holder_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_STORE, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("child process");
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let held = stdout.by_ref().map_while(Result::ok).any(|line| line.contains(HOLDING));
    assert!(held, "the child reached its push");

    let store = open(&path);
    assert!(matches!(sync_once(&store, &Answering::default()).await, Err(SyncError::Busy)), "while it lives");

    // SIGKILL on Unix, TerminateProcess on Windows: nothing of the child's runs after it.
    child.kill().unwrap();
    child.wait().unwrap();

    let report = sync_once(&store, &Answering::default()).await.expect("the next round runs at once");
    assert_eq!((report.pushed, report.acknowledged, report.pending), (1, 1, 0));
}

/// Runs a round on `store` that stops inside its push until the returned gate lets it go.
async fn round_inside_push(store: Arc<Mutex<Store>>) -> (Arc<(Notify, Notify)>, tokio::task::JoinHandle<()>) {
    let gate = Arc::new((Notify::new(), Notify::new()));
    let transport = Answering { gate: Some(gate.clone()) };
    let round = tokio::spawn(async move {
        let report = sync_once(&store, &transport).await.expect("the first round");
        assert_eq!(report.acknowledged, 1);
    });
    gate.0.notified().await;
    (gate, round)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_round_is_busy_while_the_first_holds_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("terminal.db");
    let store = Arc::new(open(&path));
    capture(&store, "Ana");

    let (gate, round) = round_inside_push(store.clone()).await;
    // The same handle (the app's worker and a command), and another handle on the same file
    // (a second process), both wait their turn.
    assert!(matches!(sync_once(&store, &Answering::default()).await, Err(SyncError::Busy)));
    let other = open(&path);
    assert!(matches!(sync_once(&other, &Answering::default()).await, Err(SyncError::Busy)));
    gate.1.notify_one();
    round.await.unwrap();

    // Released when the round ends, and when it fails.
    capture(&store, "Luis");
    assert!(matches!(sync_once(&other, &Unreachable).await, Err(SyncError::Transport(_))));
    let report = sync_once(&other, &Answering::default()).await.expect("free again");
    assert_eq!(report.acknowledged, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_store_has_one_uploader_too() {
    let store = Arc::new(open(Path::new(":memory:")));
    assert!(pos_sync::lock(&store).uploader_lock_path().is_none());
    capture(&store, "Ana");

    let (gate, round) = round_inside_push(store.clone()).await;
    assert!(matches!(sync_once(&store, &Answering::default()).await, Err(SyncError::Busy)));
    gate.1.notify_one();
    round.await.unwrap();
    sync_once(&store, &Answering::default()).await.expect("free again");
}
