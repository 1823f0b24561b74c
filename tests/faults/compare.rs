//! Reading both sides for the fault test: the server's rows from PostgreSQL, a terminal's store,
//! and how they compare (times to the millisecond, customers field by field).

use crate::procs::{psql, Term};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use uuid::Uuid;

// --- Reading both sides ---------------------------------------------------------------------------

/// A customer as compared: every field of its JSON but the clocks, and each field's clock.
pub(crate) fn customer_fields(c: &pos_core::Customer) -> BTreeMap<String, Value> {
    let mut fields: BTreeMap<String, Value> = match serde_json::to_value(c).expect("customer serialises") {
        Value::Object(map) => map.into_iter().collect(),
        _ => unreachable!(),
    };
    fields.remove("clocks");
    for v in fields.values_mut() {
        if let Value::String(s) = v {
            *s = millis(s);
        }
    }
    for (field, clock) in &c.clocks {
        fields.insert(format!("clock of {field}"), Value::String(clock.to_string()));
    }
    fields
}

/// An RFC 3339 UTC timestamp cut to milliseconds, anything else as it is: the terminal's store
/// keeps times to the millisecond (migrations/terminal), the server's JSON to the nanosecond.
pub(crate) fn millis(s: &str) -> String {
    let b = s.as_bytes();
    let stamp = b.len() >= 20 && b[4] == b'-' && b[10] == b'T' && b[13] == b':' && s.ends_with('Z');
    if !stamp {
        return s.to_owned();
    }
    // A whole second is written without a fraction (`…:59Z`).
    let frac = if b[19] == b'.' { &s[20..s.len() - 1] } else { "" };
    let frac: String = frac.chars().chain("000".chars()).take(3).collect();
    format!("{}.{frac}Z", &s[..19])
}

#[test]
fn timestamps_compare_to_the_millisecond() {
    assert_eq!(millis("2026-12-08T01:35:59Z"), "2026-12-08T01:35:59.000Z");
    assert_eq!(millis("2026-12-08T01:35:59.5Z"), "2026-12-08T01:35:59.500Z");
    assert_eq!(millis("2026-12-08T00:49:58.713224810Z"), "2026-12-08T00:49:58.713Z");
    assert_eq!(millis("Caracas"), "Caracas");
}

/// A sale as compared: its JSON, times to the millisecond.
pub(crate) fn sale_value(sale: &pos_core::Sale) -> Value {
    let mut v = serde_json::to_value(sale).expect("sale serialises");
    if let Value::Object(map) = &mut v {
        for field in map.values_mut() {
            if let Value::String(s) = field {
                *s = millis(s);
            }
        }
    }
    v
}

/// The server's rows of `table` in the organisation, straight from PostgreSQL.
pub(crate) fn server_rows(url: &str, table: &str, org: &str) -> Vec<String> {
    psql(url, &format!("SELECT data FROM {table} WHERE organization_id = '{org}' ORDER BY id"))
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What one terminal holds, read from its store file after every process of it has ended.
pub(crate) struct Local {
    pub(crate) device: Uuid,
    pub(crate) pending: u64,
    pub(crate) rejected: Vec<Value>,
    pub(crate) customers: BTreeMap<Uuid, pos_core::Customer>,
    pub(crate) sales: BTreeMap<Uuid, Value>,
    pub(crate) cursor: i64,
    pub(crate) integrity: String,
}

pub(crate) fn read_local(t: &Term) -> Local {
    let integrity = {
        let conn = rusqlite::Connection::open(&t.db).expect("open store for integrity_check");
        let rows: Vec<String> = conn
            .prepare("PRAGMA integrity_check")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .expect("integrity_check");
        rows.join("; ")
    };
    let store = pos_store::Store::open(&t.db).expect("open store");
    Local {
        device: store.identity().device_id,
        pending: store.pending_count().expect("pending count"),
        rejected: store
            .rejected_changes()
            .expect("rejected changes")
            .iter()
            .map(|e| serde_json::json!({ "change": e.change, "rejection": e.rejection }))
            .collect(),
        customers: store.all_customers().expect("customers").into_iter().map(|c| (c.id, c)).collect(),
        sales: store.all_sales().expect("sales").into_iter().map(|s| (s.id, sale_value(&s))).collect(),
        cursor: store.pull_cursor().expect("cursor"),
        integrity,
    }
}

/// How `local` differs from the server's customers: a summary line and the first few
/// differing customers, field by field.
pub(crate) fn customer_diff(
    local: &BTreeMap<Uuid, pos_core::Customer>,
    server: &BTreeMap<Uuid, pos_core::Customer>,
) -> Option<(usize, String)> {
    let missing: Vec<_> = server.keys().filter(|id| !local.contains_key(id)).collect();
    let extra: Vec<_> = local.keys().filter(|id| !server.contains_key(id)).collect();
    let mut differing = Vec::new();
    for (id, theirs) in server {
        let Some(ours) = local.get(id) else { continue };
        let (a, b) = (customer_fields(ours), customer_fields(theirs));
        let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        let diffs: Vec<String> = keys
            .into_iter()
            .filter(|k| a.get(*k) != b.get(*k))
            .map(|k| {
                let show = |m: &BTreeMap<String, Value>| m.get(k).map_or("(none)".to_owned(), Value::to_string);
                format!("      {k}: terminal {} / server {}", show(&a), show(&b))
            })
            .collect();
        if !diffs.is_empty() {
            differing.push((id, theirs.merged_into.is_some(), diffs));
        }
    }
    let total = missing.len() + extra.len() + differing.len();
    if total == 0 {
        return None;
    }
    let mut text = format!(
        "{} of {} server customers differ field by field, {} missing on the terminal, {} only on the terminal",
        differing.len(),
        server.len(),
        missing.len(),
        extra.len()
    );
    for (id, tombstone, diffs) in differing.iter().take(3) {
        let _ = write!(text, "\n    customer {id}{}:", if *tombstone { " (tombstone on the server)" } else { "" });
        for d in diffs {
            let _ = write!(text, "\n{d}");
        }
    }
    for id in missing.iter().take(3) {
        let _ = write!(
            text,
            "\n    missing on the terminal: {id} {:?}",
            server[*id].merged_into.map(|t| format!("merged into {t}"))
        );
    }
    for id in extra.iter().take(3) {
        let c = &local[*id];
        let _ = write!(
            text,
            "\n    only on the terminal: {id} {} {} phone {:?} merged_into {:?}",
            c.first_name, c.surname, c.phone, c.merged_into
        );
    }
    Some((total, text))
}
