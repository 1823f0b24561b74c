//! Prometheus text exposition, hand-rolled: request counts and latency histograms per route
//! template, push and pull volumes, merge outcomes. Process-wide counters; `/metrics` adds the
//! database's open review items when it renders.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use pos_core::wire::{ChangeOutcome, PushResponse};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::Instant;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

#[derive(Debug, Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (i, bound) in BUCKETS.iter().enumerate() {
            if seconds <= *bound {
                self.counts[i] += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }
}

/// The server's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// (method, route template, status) → latency histogram (its count is the request count).
    requests: Mutex<BTreeMap<(String, String, u16), Histogram>>,
    pushes: AtomicU64,
    pushed_changes_applied: AtomicU64,
    pushed_changes_merged: AtomicU64,
    pushed_changes_rejected: AtomicU64,
    pulls: AtomicU64,
    pulled_items: AtomicU64,
    explicit_merges: AtomicU64,
    reviews_dismissed: AtomicU64,
}

pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::default);

impl Metrics {
    pub fn record_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let mut requests = self.requests.lock().expect("metrics lock");
        requests.entry((method.to_owned(), route.to_owned(), status)).or_default().observe(seconds);
    }

    /// Counts a push (terminal or REST write) and the outcome of each of its changes.
    pub fn record_push(&self, answer: &PushResponse) {
        self.pushes.fetch_add(1, Ordering::Relaxed);
        for r in &answer.results {
            let counter = match r.outcome {
                ChangeOutcome::Applied => &self.pushed_changes_applied,
                ChangeOutcome::MergedInto { .. } => &self.pushed_changes_merged,
                ChangeOutcome::Rejected { .. } => &self.pushed_changes_rejected,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn record_pull(&self, items: usize) {
        self.pulls.fetch_add(1, Ordering::Relaxed);
        self.pulled_items.fetch_add(items as u64, Ordering::Relaxed);
    }

    pub fn record_explicit_merge(&self) {
        self.explicit_merges.fetch_add(1, Ordering::Relaxed);
    }

    pub fn record_review_dismissed(&self) {
        self.reviews_dismissed.fetch_add(1, Ordering::Relaxed);
    }

    /// The exposition text; `open_review_items` comes from the database.
    pub fn render(&self, open_review_items: i64) -> String {
        let mut out = String::new();
        out.push_str("# HELP pos_http_requests_total HTTP requests by method, route and status.\n");
        out.push_str("# TYPE pos_http_requests_total counter\n");
        let requests = self.requests.lock().expect("metrics lock").clone();
        for ((method, route, status), h) in &requests {
            let _ = writeln!(
                out,
                "pos_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {}",
                h.count
            );
        }
        out.push_str("# HELP pos_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE pos_http_request_duration_seconds histogram\n");
        for ((method, route, status), h) in &requests {
            let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
            for (bound, count) in BUCKETS.iter().zip(h.counts) {
                let _ = writeln!(out, "pos_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {count}");
            }
            let _ = writeln!(out, "pos_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
            let _ = writeln!(out, "pos_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
            let _ = writeln!(out, "pos_http_request_duration_seconds_count{{{labels}}} {}", h.count);
        }
        let counter = |out: &mut String, name: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
        };
        counter(
            &mut out,
            "pos_sync_pushes_total",
            "Change batches written (pushes and REST writes).",
            self.pushes.load(Ordering::Relaxed),
        );
        out.push_str(
            "# HELP pos_sync_changes_total Pushed changes by outcome.\n# TYPE pos_sync_changes_total counter\n",
        );
        for (outcome, c) in [
            ("applied", &self.pushed_changes_applied),
            ("merged", &self.pushed_changes_merged),
            ("rejected", &self.pushed_changes_rejected),
        ] {
            let _ = writeln!(out, "pos_sync_changes_total{{outcome=\"{outcome}\"}} {}", c.load(Ordering::Relaxed));
        }
        counter(&mut out, "pos_sync_pulls_total", "Pull pages served.", self.pulls.load(Ordering::Relaxed));
        counter(
            &mut out,
            "pos_sync_pulled_items_total",
            "Items served by pulls.",
            self.pulled_items.load(Ordering::Relaxed),
        );
        out.push_str("# HELP pos_merges_total Customer merges by outcome.\n# TYPE pos_merges_total counter\n");
        let _ = writeln!(
            out,
            "pos_merges_total{{outcome=\"dedupe\"}} {}",
            self.pushed_changes_merged.load(Ordering::Relaxed)
        );
        let _ =
            writeln!(out, "pos_merges_total{{outcome=\"explicit\"}} {}", self.explicit_merges.load(Ordering::Relaxed));
        let _ = writeln!(
            out,
            "pos_merges_total{{outcome=\"dismissed\"}} {}",
            self.reviews_dismissed.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP pos_review_items_open Open review items (suspected duplicates).\n# TYPE pos_review_items_open gauge\npos_review_items_open {open_review_items}"
        );
        out
    }
}

/// Middleware: counts every request and its latency under its route template (never the raw
/// path, so ids do not explode the label set).
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str()).to_owned();
    let response = next.run(request).await;
    METRICS.record_request(&method, &route, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}
