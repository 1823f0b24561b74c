//! Central merge throughput on SQLite and PostgreSQL: 100,000 pushed new-customer changes, 30 %
//! of them the same people again under other ids (the overlap a chain sees when branches
//! capture the same customers offline), in batches of 500 through `Db::push` — the same path a
//! push request takes, minus HTTP. Beside it, a plain batched INSERT of the same rows, as a
//! ratio. Then the bootstrap pull of everything to a fresh terminal store.
//!
//! `cargo bench -p sync-server --bench merge` (env: `BENCH_CHANGES`, default 100,000;
//! `TEST_DATABASE_URL` for PostgreSQL).

use pos_core::wire::{ChangeOutcome, PulledItem};
use std::time::Instant;
use sync_server::db::Db;
use sync_server::AppState;
use uuid::Uuid;

const SEED: u64 = 424_242;
const BATCH: usize = 500;

fn changes(n: u64, device: Uuid, org: Uuid) -> Vec<pos_core::wire::Change> {
    let unique = n * 7 / 10;
    (0..n)
        .map(|i| {
            // The last 30 % repeat earlier people (same phone/cédula/email) under fresh ids.
            let mut c = pos_demo::customer(SEED, if i < unique { i } else { (i * 7919) % unique });
            if i >= unique {
                c.id = Uuid::now_v7();
                c.notes = Some(format!("captured again ({i})"));
            }
            c.organization_id = org;
            pos_demo::as_change(&c, device)
        })
        .collect()
}

async fn run(label: &str, url: &str, n: u64) {
    let db = Db::connect(url).await.expect("database");
    let state = AppState::new(db.clone()).await.expect("state");
    let org = db.create_organization(&format!("bench-{}", Uuid::now_v7())).await.unwrap();
    let device = Uuid::now_v7();
    let all = changes(n, device, org);

    let start = Instant::now();
    let (mut applied, mut merged) = (0, 0);
    for batch in all.chunks(BATCH) {
        for r in db.push(org, device, batch, &state.clock).await.expect("push").results {
            match r.outcome {
                ChangeOutcome::Applied => applied += 1,
                ChangeOutcome::MergedInto { .. } => merged += 1,
                ChangeOutcome::Rejected { errors } => panic!("rejected: {errors}"),
            }
        }
    }
    let merge_secs = start.elapsed().as_secs_f64();

    let raw_org = db.create_organization(&format!("bench-raw-{}", Uuid::now_v7())).await.unwrap();
    let rows: Vec<_> = (0..n * 7 / 10).map(|i| pos_demo::customer(SEED, i)).collect();
    let start = Instant::now();
    for batch in rows.chunks(BATCH) {
        db.plain_insert_customers(raw_org, batch).await.expect("plain insert");
    }
    let raw_secs = start.elapsed().as_secs_f64();
    let raw_rate = rows.len() as f64 / raw_secs;
    let merge_rate = n as f64 / merge_secs;
    println!(
        "{label:<10} merge: {n} changes ({applied} new, {merged} merged) in {merge_secs:.1} s = {merge_rate:>8.0} changes/s | \
         plain batched insert: {raw_rate:>8.0} rows/s | merge / plain = {:.2}",
        merge_rate / raw_rate
    );

    // Bootstrap: a fresh terminal pulls the whole organisation.
    let dir = tempfile::tempdir().unwrap();
    let mut store = pos_store::Store::open(dir.path().join("t.db")).unwrap();
    let start = Instant::now();
    let mut cursor = 0;
    let mut pulled = 0;
    loop {
        let page = db.pull(org, cursor, 5_000).await.unwrap();
        pulled += page.items.iter().filter(|i| matches!(i, PulledItem::Customer { .. })).count();
        store.apply_pull(&page.items, page.cursor).unwrap();
        cursor = page.cursor;
        if !page.has_more {
            break;
        }
    }
    println!(
        "{label:<10} bootstrap pull: {pulled} customer rows to a fresh terminal in {:.1} s",
        start.elapsed().as_secs_f64()
    );
}

#[tokio::main]
async fn main() {
    let n: u64 = std::env::var("BENCH_CHANGES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    // `BENCH_BACKENDS=sqlite` or `=postgres` runs one of them.
    let only = std::env::var("BENCH_BACKENDS").unwrap_or_default();
    let dir = tempfile::tempdir().unwrap();
    if only.is_empty() || only.contains("sqlite") {
        run("sqlite", &Db::default_sqlite_url(dir.path()), n).await;
    }
    if only.is_empty() || only.contains("postgres") {
        let pg =
            std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        run("postgres", &pg, n).await;
    }
}
