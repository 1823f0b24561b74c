//! Central merge throughput on SQLite and PostgreSQL: 100,000 pushed new-customer changes, 30 %
//! of them the same people again under other ids (the overlap a chain sees when branches
//! capture the same customers offline), in pushes as large as a terminal sends
//! (`pos_sync::push_len`) through `Db::push` — the same path a push request takes, minus HTTP
//! (the size of one request body is printed beside the 8 MiB limit). Beside it, a plain batched
//! INSERT of the same rows in batches of that size, through the same writer, as a ratio. Each
//! merge run also prints where its pushes spent their time (load, plan, write, commit:
//! `Db::push`'s debug log, summed). Then the bootstrap: a fresh terminal store pulls the whole
//! organisation over HTTP from a server on a loopback port, through `pos_sync::sync_once`.
//!
//! `cargo bench -p sync-server --bench merge`. Env: `BENCH_CHANGES` (default 100,000);
//! `BENCH_BACKENDS=sqlite|postgres` (default both; `TEST_DATABASE_URL` for PostgreSQL);
//! `BENCH_RUNS` (default 1; medians are printed when more); `BENCH_BATCH` (changes per push,
//! to compare batch sizes); `BENCH_EXISTING=1000000` merges into an organisation that already
//! holds that many other customers (seeded by plain insert, not timed); `BENCH_HISTORIC=1` pushes
//! customers created over the last three years instead of captured in the last hour (see
//! `captured_at`); `BENCH_BOOTSTRAP=1000000` pulls an
//! organisation of that many customers, seeded by plain insert (not timed), instead of the
//! merged one.

use pos_core::wire::ChangeOutcome;
use std::future::IntoFuture;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use sync_server::db::Db;
use sync_server::AppState;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use uuid::Uuid;

/// The server binary's allocator (see `src/main.rs`), so the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SEED: u64 = 424_242;
/// Changes per push: `BENCH_BATCH`, or as many as a terminal sends in one request
/// (`pos_sync::push_len`: at most 5,000 and 6 MiB of JSON).
fn push_len(changes: &[pos_core::wire::Change]) -> usize {
    match std::env::var("BENCH_BATCH").ok().and_then(|v| v.parse().ok()) {
        Some(n) => changes.len().min(n),
        None => pos_sync::push_len(changes),
    }
}

/// The customers pushed: `n` captures, the last 30 % of them earlier people again (same
/// phone/cédula/email) under fresh ids.
fn pushed_customers(n: u64) -> impl Iterator<Item = pos_core::Customer> {
    let unique = n * 7 / 10;
    let historic = std::env::var_os("BENCH_HISTORIC").is_some();
    // One capture every 10 ms, the last a minute ago (a clock ahead of the server's is restamped).
    let first_capture = chrono::Utc::now().timestamp_millis() as u64 - n * 10 - 60_000;
    (0..n).map(move |i| {
        let mut c = pos_demo::customer(SEED, if i < unique { i } else { (i * 7919) % unique });
        if i >= unique {
            c.id = Uuid::now_v7();
            c.notes = Some(format!("captured again ({i})"));
        }
        if !historic {
            captured_at(&mut c, first_capture + i * 10);
        }
        c
    })
}

fn changes(n: u64, device: Uuid, org: Uuid) -> Vec<pos_core::wire::Change> {
    pushed_customers(n)
        .map(|mut c| {
            c.organization_id = org;
            pos_demo::as_change(&c, device)
        })
        .collect()
}

/// Stamps `c` as a terminal captures it: every field written at `at_ms`, which becomes its
/// `created_at` on the server. Pushed customers are the chain's recent captures, not the generated population's creation dates spread over three years (those,
/// with `BENCH_HISTORIC`, are what an import of old records looks like: every push then lands
/// all over the creation-date index).
fn captured_at(c: &mut pos_core::Customer, at_ms: u64) {
    for clock in c.clocks.values_mut() {
        *clock = pos_core::Hlc { wall_ms: at_ms, counter: 0, ..*clock };
    }
    c.created_at = chrono::DateTime::from_timestamp_millis(at_ms as i64).expect("a time in range");
    c.updated_at = c.created_at;
}

/// Where merge time goes: the phase timings `Db::push` logs (debug, target
/// `sync_server::db::push`), summed: load, plan, write, commit (ms).
static PHASES: [AtomicU64; 4] = [AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0), AtomicU64::new(0)];
const PHASE_NAMES: [&str; 4] = ["load_ms", "plan_ms", "write_ms", "commit_ms"];

struct PhaseTotals;

impl tracing::field::Visit for PhaseTotals {
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        if let Some(i) = PHASE_NAMES.iter().position(|n| *n == field.name()) {
            PHASES[i].fetch_add(value, Ordering::Relaxed);
        }
    }
    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for PhaseTotals {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        event.record(&mut PhaseTotals);
    }
}

/// The phase totals since the last call, in seconds, as `load 1.2 s, plan …`.
fn take_phases() -> String {
    let secs: Vec<String> = PHASES
        .iter()
        .zip(PHASE_NAMES)
        .map(|(total, name)| {
            format!("{} {:.1} s", name.trim_end_matches("_ms"), total.swap(0, Ordering::Relaxed) as f64 / 1e3)
        })
        .collect();
    secs.join(", ")
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// One merge run: changes/s through `Db::push`; returns the rate and the organisation. The
/// organisation first holds `existing` other customers, seeded by plain insert (not timed).
async fn merge_run(db: &Db, state: &AppState, n: u64, existing: u64) -> (f64, Uuid) {
    let org = db.create_organization(&format!("bench-{}", Uuid::now_v7())).await.unwrap();
    seed(db, org, SEED + 2, n..n + existing).await;
    let device = Uuid::now_v7();
    let mut batches = Vec::new();
    let mut rest = changes(n, device, org);
    while !rest.is_empty() {
        let later = rest.split_off(push_len(&rest));
        batches.push(std::mem::replace(&mut rest, later));
    }
    let start = Instant::now();
    let (mut applied, mut merged) = (0, 0);
    for batch in batches {
        for r in db.push(org, device, batch, &state.clock).await.expect("push").results {
            match r.outcome {
                ChangeOutcome::Applied => applied += 1,
                ChangeOutcome::MergedInto { .. } => merged += 1,
                ChangeOutcome::Rejected { errors } => panic!("rejected: {errors}"),
            }
        }
    }
    assert_eq!((applied, merged), (n * 7 / 10, n - n * 7 / 10));
    (n as f64 / start.elapsed().as_secs_f64(), org)
}

/// Seeds `org` with generated customers `people` of `seed`, by plain insert. (A generated
/// customer's keys follow from its number alone, whatever the seed.)
async fn seed(db: &Db, org: Uuid, seed: u64, people: std::ops::Range<u64>) {
    for first in people.clone().step_by(5_000) {
        let batch: Vec<_> = (first..(first + 5_000).min(people.end)).map(|i| pos_demo::customer(seed, i)).collect();
        db.plain_insert_customers(org, batch).await.expect("seed");
    }
}

/// One plain-insert run of the merge's surviving rows: rows/s.
async fn plain_run(db: &Db, rows: &[pos_core::Customer], batch: usize) -> f64 {
    let org = db.create_organization(&format!("bench-raw-{}", Uuid::now_v7())).await.unwrap();
    let batches: Vec<Vec<_>> = rows.chunks(batch).map(<[_]>::to_vec).collect();
    let start = Instant::now();
    for batch in batches {
        db.plain_insert_customers(org, batch).await.expect("plain insert");
    }
    rows.len() as f64 / start.elapsed().as_secs_f64()
}

/// A fresh terminal store syncs with the server at `base` as `pos-sync` does: a bulk load of
/// every page of organisation `org` (each applied with its cursor, the next page fetched while
/// one is applied), indexes built at the end. Returns (customers on the terminal, seconds).
async fn bootstrap(state: &AppState, base: &str, org: Uuid) -> (u64, f64) {
    let code = sync_server::accounts::issue_registration_code(state, org, None, 1).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = pos_store::Store::open(dir.path().join("terminal.db")).unwrap();
    let registration = pos_sync::register(base, &code, "bench", store.identity().device_id).await.unwrap();
    store.set_membership(registration.organization_id, registration.branch_id).unwrap();
    let client = pos_sync::SyncClient::new(base, &registration.credential);
    let store = std::sync::Mutex::new(store);
    let start = Instant::now();
    pos_sync::sync_once(&store, &client).await.unwrap();
    let secs = start.elapsed().as_secs_f64();
    let total = pos_sync::lock(&store).stats(chrono::Utc::now().date_naive(), 1).unwrap().total;
    (total, secs)
}

async fn run(label: &str, url: &str, n: u64, runs: usize, existing: u64, bootstrap_size: Option<u64>) {
    let db = Db::connect(url).await.expect("database");
    let state = AppState::new(db.clone()).await.expect("state");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, sync_server::app(state.clone())).into_future());

    let rows: Vec<_> = pushed_customers(n).take((n * 7 / 10) as usize).collect();
    // The plain insert goes in batches of the size of the first push.
    let mut sample = changes(5_000, Uuid::now_v7(), Uuid::now_v7());
    let batch = push_len(&sample);
    sample.truncate(batch);
    let body = serde_json::to_vec(&pos_core::wire::PushRequest { changes: sample }).unwrap().len() as f64 / 1048576.0;
    println!("{label:<9} pushes of {batch} changes, {body:.1} MiB of JSON each (body limit 8 MiB)");
    let (mut merges, mut plains, mut last_org) = (vec![], vec![], None);
    for _ in 0..runs {
        take_phases();
        let (rate, org) = merge_run(&db, &state, n, existing).await;
        println!("{label:<9} merge run: {rate:.0} changes/s; time in pushes: {}", take_phases());
        merges.push(rate);
        last_org = Some(org);
        plains.push(plain_run(&db, &rows, batch).await);
    }
    let fmt = |xs: &[f64]| xs.iter().map(|x| format!("{x:.0}")).collect::<Vec<_>>().join(" ");
    let (merge, plain) = (median(merges.clone()), median(plains.clone()));
    println!(
        "{label:<9} merge of {n} changes (30 % overlap), median of {runs}: {merge:>6.0} changes/s [{}] | \
         plain batched insert: {plain:>6.0} rows/s [{}] | merge / plain = {:.2}",
        fmt(&merges),
        fmt(&plains),
        merge / plain
    );

    let org = match bootstrap_size {
        None => last_org.expect("a merge run"),
        Some(size) => {
            let org = db.create_organization(&format!("bench-boot-{}", Uuid::now_v7())).await.unwrap();
            let start = Instant::now();
            seed(&db, org, SEED + 1, 0..size).await;
            println!("{label:<9} seeded {size} customers (not timed) in {:.0} s", start.elapsed().as_secs_f64());
            org
        }
    };
    let (customers, secs) = bootstrap(&state, &base, org).await;
    println!("{label:<9} bootstrap pull to a fresh terminal over HTTP: {customers} customers in {secs:.1} s");
}

#[tokio::main]
async fn main() {
    sync_server::without_transparent_huge_pages(); // as the server binary does
    let only_push_timings =
        tracing_subscriber::filter::Targets::new().with_target("sync_server::db::push", tracing::Level::DEBUG);
    tracing_subscriber::registry().with(only_push_timings).with(PhaseTotals).init();
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let n = env("BENCH_CHANGES").unwrap_or(100_000);
    let runs = env("BENCH_RUNS").unwrap_or(1).max(1) as usize;
    let existing = env("BENCH_EXISTING").unwrap_or(0);
    let bootstrap_size = env("BENCH_BOOTSTRAP");
    let only = std::env::var("BENCH_BACKENDS").unwrap_or_default();
    let dir = tempfile::tempdir().unwrap();
    if only.is_empty() || only.contains("sqlite") {
        run("sqlite", &Db::default_sqlite_url(dir.path()), n, runs, existing, bootstrap_size).await;
    }
    if only.is_empty() || only.contains("postgres") {
        let pg =
            std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        run("postgres", &pg, n, runs, existing, bootstrap_size).await;
    }
}
