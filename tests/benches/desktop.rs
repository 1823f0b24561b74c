//! The desktop app on a store of 1,000,000 customers, in a real window under Xvfb: launch to an
//! interactive first screen (sign-in), sign-in to an interactive search box, and keystroke to
//! results painted, as the window itself measures them (`performance.now()` from the input
//! event to the frame after the results render). The app registers with a sync server on
//! loopback (an empty organisation) so a cashier can sign in.
//!
//! `cargo bench -p pos-e2e --bench desktop` (`BENCH_CUSTOMERS` to change the store size; the
//! store is generated once under `.bench/` and reused).

use pos_e2e::app::{focused, launch, sign_in, Shop};
use pos_e2e::binary;
use pos_e2e::webdriver::{keys, Display};
use serde_json::json;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn summary(name: &str, mut values: Vec<f64>) {
    values.sort_by(f64::total_cmp);
    println!(
        "{name:<44} n={:<4} p50={:>8.1} ms  p95={:>8.1} ms  max={:>8.1} ms",
        values.len(),
        percentile(&values, 0.5),
        percentile(&values, 0.95),
        values[values.len() - 1]
    );
}

fn main() {
    let customers: u64 = std::env::var("BENCH_CUSTOMERS").ok().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = root.join(format!(".bench/desktop-{customers}"));
    let db = dir.join("terminal.db");
    if !db.exists() {
        std::fs::create_dir_all(&dir).expect("bench dir");
        let start = Instant::now();
        let status = Command::new(binary("pos-terminal"))
            .args(["--db", db.to_str().expect("path"), "seed-demo", "--count", &customers.to_string()])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("seed");
        assert!(status.success());
        println!("generated {customers} customers in {:.1} s", start.elapsed().as_secs_f64());
    }
    let shop = Shop::new(1);
    // A fresh registration with this run's server: forget the last run's.
    for stale in ["settings.json", "device-credential"] {
        let _ = std::fs::remove_file(dir.join(stale));
    }
    let display = Display::start();

    let (mut launch_in_app, mut launch_seen, mut signed_in) = (Vec::new(), Vec::new(), Vec::new());
    let mut keystrokes = Vec::new();
    for round in 0..5 {
        let started = Instant::now();
        let extra = if round == 0 { shop.register_args(0) } else { Vec::new() };
        let session = launch(&display, &dir, "es", &extra);
        session.find("#sign-in", Duration::from_secs(60));
        session.wait_until("focus", Duration::from_secs(60), || focused(&session) == "signin-username");
        launch_seen.push(started.elapsed().as_secs_f64() * 1000.0);
        let signing_in = Instant::now();
        sign_in(&session, &shop.cashier);
        signed_in.push(signing_in.elapsed().as_secs_f64() * 1000.0);
        let search = session.find("#search", Duration::from_secs(5));
        let mut info = session.invoke("app_info", json!({}));
        while info["interactive_ms"].is_null() {
            std::thread::sleep(Duration::from_millis(20));
            info = session.invoke("app_info", json!({}));
        }
        launch_in_app.push(info["interactive_ms"].as_f64().expect("ms"));
        if round == 0 {
            continue; // first launch warms the page cache; keystrokes from the others
        }
        // Typed as cashiers type: identifiers in their usual written forms, and names.
        for query in ["v12.345.678", "0414-123.45.67", "maria gonz", "jose rod", "carmen", "26.123"] {
            session.type_into(&search, query);
            std::thread::sleep(Duration::from_millis(150));
            for _ in 0..query.chars().count() {
                session.type_into(&search, keys::BACKSPACE);
            }
            std::thread::sleep(Duration::from_millis(150));
        }
        let measured = session.execute("return window.__posMetrics.keystrokes.splice(0)", json!([]));
        keystrokes.extend(measured.as_array().expect("array").iter().filter_map(|v| v.as_f64()));
    }
    println!("desktop app, store of {customers} customers, Xvfb + WebKitGTK (software rendering)");
    summary("launch → sign-in interactive (in app)", launch_in_app);
    summary("launch → sign-in focused (WebDriver)", launch_seen);
    summary("sign-in → search box focused (WebDriver)", signed_in);
    summary("keystroke → results painted", keystrokes);
}
