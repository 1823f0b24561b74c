//! Counter lookup on a million customers: p50/p99 of `quick_lookup` by each identifier typed
//! the way people write it and by name prefix, beside the raw indexed SQLite query on the same
//! file (the floor), and capture throughput (validated create + outbox, one transaction each).
//!
//! `cargo bench -p pos-store --bench lookup` (env: `BENCH_CUSTOMERS`, default 1,000,000;
//! `BENCH_DB`, default `target/bench/lookup-<n>.db`, reused when already built).

use pos_core::CustomerInput;
use pos_demo::{customer, dotted_cedula, national_phone, Rng};
use pos_store::Store;
use rusqlite::Connection;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const SEED: u64 = 20_261_121;
const SAMPLES: usize = 2_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn micros(d: Duration) -> String {
    format!("{:>8.1} µs", d.as_secs_f64() * 1e6)
}

struct Timing {
    p50: Duration,
    p99: Duration,
}

fn timing(mut times: Vec<Duration>) -> Timing {
    times.sort();
    Timing { p50: percentile(&times, 0.5), p99: percentile(&times, 0.99) }
}

fn timed(f: impl FnOnce() -> usize) -> Duration {
    let start = Instant::now();
    let found = f();
    let t = start.elapsed();
    assert!(found > 0, "every benchmark query must find its customer");
    t
}

/// Times `ours` and `floor` on each query back to back, alternating which goes first, so
/// neither profits from pages the other just brought into the cache.
fn paired<T, U>(
    queries: &[(T, U)],
    mut ours: impl FnMut(&T) -> usize,
    mut floor: impl FnMut(&U) -> usize,
) -> (Timing, Timing) {
    let (mut a, mut b) = (Vec::with_capacity(queries.len()), Vec::with_capacity(queries.len()));
    for (i, (q, raw)) in queries.iter().enumerate() {
        if i % 2 == 0 {
            a.push(timed(|| ours(q)));
            b.push(timed(|| floor(raw)));
        } else {
            b.push(timed(|| floor(raw)));
            a.push(timed(|| ours(q)));
        }
    }
    (timing(a), timing(b))
}

/// The floor: step the row and read every column, converting nothing.
fn read_all_columns(row: &rusqlite::Row<'_>) -> rusqlite::Result<usize> {
    let mut bytes = 0;
    for i in 0..row.as_ref().column_count() {
        bytes += match row.get_ref(i)? {
            rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => t.len(),
            _ => 8,
        };
    }
    Ok(bytes)
}

fn build(path: &PathBuf, n: u64) -> Store {
    let fresh = !path.exists();
    let mut store = Store::open(path).expect("open store");
    let have = store.stats(chrono::Utc::now().date_naive(), 1).expect("stats").total;
    if !fresh && have == n {
        println!("reusing {} ({n} customers)", path.display());
        return store;
    }
    drop(store);
    let _ = std::fs::remove_file(path);
    store = Store::open(path).expect("open store");
    let start = Instant::now();
    let chunk = 20_000;
    for lo in (0..n).step_by(chunk) {
        let rows: Vec<_> = (lo..(lo + chunk as u64).min(n)).map(|i| customer(SEED, i)).collect();
        store.apply_remote_customers(&rows).expect("load");
    }
    println!(
        "built {} customers in {:.1} s (apply_remote_customers, {chunk} per transaction)",
        n,
        start.elapsed().as_secs_f64()
    );
    store
}

fn main() {
    let n: u64 = std::env::var("BENCH_CUSTOMERS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let path = std::env::var("BENCH_DB").map(PathBuf::from).unwrap_or_else(|_| {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
        std::fs::create_dir_all(&dir).expect("bench dir");
        dir.join(format!("lookup-{n}.db"))
    });
    let mut store = build(&path, n);
    let raw = Connection::open(&path).expect("raw connection");

    let mut rng = Rng::new(SEED);
    let sample: Vec<_> = (0..SAMPLES).map(|_| customer(SEED, rng.below(n))).collect();
    let with_email: Vec<_> = sample.iter().filter(|c| c.email.is_some()).cloned().collect();
    let with_passport: Vec<_> = (0..SAMPLES * 8)
        .map(|_| customer(SEED, rng.below(n)))
        .filter(|c| c.passport_number.is_some())
        .take(SAMPLES)
        .collect();

    println!("\nquick_lookup on {n} customers, {SAMPLES} queries each (limit 10)");
    println!("{:<34} {:>11} {:>11} | {:>11} {:>11} | {:>6}", "query", "p50", "p99", "raw p50", "raw p99", "p99 ×");
    let report = |label: &str, ours: Timing, floor: Timing| {
        println!(
            "{label:<34} {} {} | {} {} | {:>5.2}×",
            micros(ours.p50),
            micros(ours.p99),
            micros(floor.p50),
            micros(floor.p99),
            ours.p99.as_secs_f64() / floor.p99.as_secs_f64()
        );
    };
    let exact_sql = |column: &str| format!("SELECT * FROM customers WHERE {column} = ?1 LIMIT 10");
    let measure_exact = |label: &str, column: &str, queries: Vec<(String, String)>| {
        let mut stmt = raw.prepare(&exact_sql(column)).unwrap();
        let (ours, floor) = paired(
            &queries,
            |q| store.quick_lookup(q, 10).unwrap().len(),
            |k| stmt.query_map([k], read_all_columns).unwrap().count(),
        );
        report(label, ours, floor);
    };
    measure_exact(
        "cédula as v12.345.678",
        "identification",
        sample
            .iter()
            .map(|c| (dotted_cedula(c.identification.as_deref().unwrap()), c.identification.clone().unwrap()))
            .collect(),
    );
    measure_exact(
        "phone as 0414-123.45.67",
        "phone",
        sample.iter().map(|c| (national_phone(c.phone.as_deref().unwrap()), c.phone.clone().unwrap())).collect(),
    );
    measure_exact(
        "email upper-cased",
        "email",
        with_email.iter().map(|c| (c.email.as_deref().unwrap().to_uppercase(), c.email.clone().unwrap())).collect(),
    );
    measure_exact(
        "passport with a dash",
        "passport_number",
        with_passport
            .iter()
            .map(|c| {
                let p = c.passport_number.as_deref().unwrap();
                (format!("{}-{}", &p[..3], &p[3..]), p.to_owned())
            })
            .collect(),
    );

    // Names as typed at the counter: a few letters of the first name and of the surname, and a
    // bare surname prefix; the floor is the FTS5 query alone.
    let mut fts = raw.prepare("SELECT c.* FROM customers_fts f CROSS JOIN customers c ON c.seq = f.rowid WHERE customers_fts MATCH ?1 LIMIT 10").unwrap();
    let as_fts = |q: &str| q.split(' ').map(|w| format!("\"{w}\"*")).collect::<Vec<_>>().join(" ");
    let fold_prefix = |s: &str, n: usize| pos_core::text::fold(s).chars().take(n).collect::<String>();
    let names: Vec<(String, String)> = sample
        .iter()
        .map(|c| {
            let q = format!("{} {}", fold_prefix(&c.first_name, 4), fold_prefix(&c.surname, 3));
            let m = as_fts(&q);
            (q, m)
        })
        .collect();
    let (ours, floor) = paired(
        &names,
        |q| store.quick_lookup(q, 10).unwrap().len(),
        |m| fts.query_map([m], read_all_columns).unwrap().count(),
    );
    report("name prefix \"mari gon\"", ours, floor);
    let surnames: Vec<(String, String)> =
        sample.iter().map(|c| fold_prefix(&c.surname, 3)).map(|q| (q.clone(), as_fts(&q))).collect();
    let (ours, floor) = paired(
        &surnames,
        |q| store.quick_lookup(q, 10).unwrap().len(),
        |m| fts.query_map([m], read_all_columns).unwrap().count(),
    );
    report("surname prefix \"gon\"", ours, floor);
    drop(fts);

    // Capture: validated create + outbox entry, one durable (synchronous=FULL) transaction each.
    let captures = 1_000;
    let inputs: Vec<CustomerInput> = (0..captures)
        .map(|k| {
            let c = customer(SEED + 1, n + k);
            CustomerInput {
                first_name: Some(c.first_name),
                surname: Some(c.surname),
                phone: c.phone.as_deref().map(national_phone),
                email: c.email,
                identification: Some(format!("V-{}", 50_000_000 + k)),
                ..Default::default()
            }
        })
        .collect();
    let last_seq: i64 = raw.query_row("SELECT max(seq) FROM customers", [], |r| r.get(0)).unwrap();
    let start = Instant::now();
    let mut latencies = Vec::with_capacity(inputs.len());
    for input in &inputs {
        let t = Instant::now();
        store.create_customer(input).expect("capture");
        latencies.push(t.elapsed());
    }
    let total = start.elapsed();
    latencies.sort();
    println!(
        "\ncapture (validate + insert + outbox, synchronous=FULL): {:.0} customers/s, p50 {}, p99 {}",
        captures as f64 / total.as_secs_f64(),
        micros(percentile(&latencies, 0.5)),
        micros(percentile(&latencies, 0.99))
    );
    // Take the captures out again so the next run can reuse the file as built.
    drop(store);
    raw.execute_batch(&format!("DELETE FROM customers WHERE seq > {last_seq}; DELETE FROM outbox;")).unwrap();
}
