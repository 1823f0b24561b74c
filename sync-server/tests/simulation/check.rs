//! The invariants of DESIGN.md checked on a healed history: I1 (no duplicate key among the
//! server's live customers), I2 (nothing lost, nothing rejected, every sale once) and I3 (each
//! terminal holds the server's rows field by field, clocks included).

use super::history::History;
use pos_core::wire::PulledItem;
use pos_core::{Customer, Preferences, Sale};
use std::collections::{BTreeMap, BTreeSet};
use uuid::Uuid;

/// The server's state of the organisation: every row as stored now, read by pulling from the
/// start of its sequence (each row once, at its latest version).
#[derive(Debug, Default)]
pub struct ServerState {
    pub customers: BTreeMap<Uuid, Customer>,
    pub preferences: BTreeMap<Uuid, Preferences>,
    pub sales: BTreeMap<Uuid, Sale>,
}

pub async fn server_state(history: &History) -> ServerState {
    let db = history.server.db();
    let mut state = ServerState::default();
    let mut cursor = 0;
    loop {
        let page = db.pull(history.server.org, cursor, 5_000).await.expect("pull");
        for item in page.items {
            match item {
                PulledItem::Customer { customer } => {
                    state.customers.insert(customer.id, *customer);
                }
                PulledItem::Preferences { customer_id, preferences, .. } => {
                    state.preferences.insert(customer_id, preferences);
                }
                PulledItem::Sale { sale } => {
                    assert!(state.sales.insert(sale.id, sale).is_none(), "a sale stored twice");
                }
            }
        }
        cursor = page.cursor;
        if !page.has_more {
            return state;
        }
    }
}

/// Checks I1–I3; `Err` says what broke, with enough detail to see why.
pub async fn invariants(history: &History) -> Result<ServerState, String> {
    let server = server_state(history).await;
    let errors = history.server.errors.lock().expect("errors").clone();
    if !errors.is_empty() {
        return Err(format!("the server failed {} request(s) (each a 5xx): {:?}", errors.len(), errors));
    }

    // I1.
    let mut owners: BTreeMap<(String, String), Uuid> = BTreeMap::new();
    for c in server.customers.values().filter(|c| c.merged_into.is_none()) {
        for (kind, value) in c.keys().iter() {
            if let Some(other) = owners.insert((kind.field().to_owned(), value.to_owned()), c.id) {
                return Err(format!("I1: {other} and {} share {} {value}", c.id, kind.field()));
            }
        }
    }

    // I2.
    for (t, terminal) in history.terminals.iter().enumerate() {
        let store = pos_sync::lock(&terminal.store);
        let pending = store.pending_count().expect("pending");
        let rejected = store.rejected_changes().expect("rejected");
        if pending > 0 || !rejected.is_empty() {
            let why: Vec<_> = rejected.iter().map(|e| (e.change.body.entity(), &e.rejection)).collect();
            return Err(format!("I2: terminal {t} still has {pending} pending and rejected {why:?}"));
        }
    }
    let stored: BTreeSet<Uuid> = server.sales.keys().copied().collect();
    if stored != history.tally.sales {
        let lost: Vec<_> = history.tally.sales.difference(&stored).collect();
        let extra: Vec<_> = stored.difference(&history.tally.sales).collect();
        return Err(format!("I2: sales lost {lost:?}, sales nobody made {extra:?}"));
    }
    if let Some(lost) = history.tally.written.iter().find(|id| !server.customers.contains_key(id)) {
        return Err(format!("I2: customer {lost} written at a terminal never reached the server"));
    }
    for sale in server.sales.values() {
        match server.customers.get(&sale.customer_id) {
            Some(c) if c.merged_into.is_none() => {}
            other => return Err(format!("I2: sale {} is for {:?}, not a live customer", sale.id, other.map(|c| c.id))),
        }
    }

    // I3.
    for (t, terminal) in history.terminals.iter().enumerate() {
        let store = pos_sync::lock(&terminal.store);
        let local: BTreeMap<Uuid, Customer> =
            store.all_customers().expect("customers").into_iter().map(|c| (c.id, c)).collect();
        if let Some(diff) = first_difference(&local, &server.customers) {
            return Err(format!("I3: terminal {t} differs from the server: {diff}"));
        }
        for (id, prefs) in &server.preferences {
            let mine = store.preferences(*id).expect("preferences");
            if &mine != prefs {
                return Err(format!("I3: terminal {t}'s preferences of {id} are {mine:?}, the server's {prefs:?}"));
            }
        }
        let sales: BTreeMap<Uuid, Sale> = store.all_sales().expect("sales").into_iter().map(|s| (s.id, s)).collect();
        if sales != server.sales {
            let differ: Vec<_> = sales.iter().filter(|(id, s)| server.sales.get(id) != Some(s)).take(3).collect();
            return Err(format!(
                "I3: terminal {t} holds {} sales, the server {}; differing: {differ:?}",
                sales.len(),
                server.sales.len()
            ));
        }
    }
    Ok(server)
}

/// The first customer that is not the same on both sides, field by field.
fn first_difference(local: &BTreeMap<Uuid, Customer>, server: &BTreeMap<Uuid, Customer>) -> Option<String> {
    for (id, theirs) in server {
        let Some(mine) = local.get(id) else {
            return Some(format!("missing customer {id} ({} {})", theirs.first_name, theirs.surname));
        };
        if mine != theirs {
            let (a, b) = (serde_json::to_value(mine).unwrap(), serde_json::to_value(theirs).unwrap());
            let fields: Vec<String> = a
                .as_object()
                .unwrap()
                .iter()
                .filter(|(k, v)| b.get(k.as_str()) != Some(v))
                .map(|(k, v)| format!("{k}: terminal {v} / server {}", b[k.as_str()]))
                .collect();
            return Some(format!("customer {id}: {}", fields.join("; ")));
        }
    }
    local.keys().find(|id| !server.contains_key(id)).map(|id| format!("customer {id} exists only on the terminal"))
}
