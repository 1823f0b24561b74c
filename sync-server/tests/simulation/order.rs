//! I4: the same captures, made offline at several terminals, pushed to two servers in two
//! different arrival orders, leave the same customers with the same values. Each terminal
//! captures a person at most once, and every capture of a person carries that person's anchor
//! key, so no arrival order can open a review item (the invariant's condition).

use super::history::scratch_dir;
use super::net::Server;
use super::people::{people, Keys};
use super::rng::Rng;
use pos_core::wire::{Change, PulledItem, PushRequest};
use pos_core::{PaymentMethod, SaleInput};
use pos_store::Store;
use std::collections::BTreeMap;

/// Runs one I4 history; `Err` shows the first difference.
pub async fn arrival_order_history(seed: u64) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let dir = scratch_dir();
    let terminals = rng.between(2, 4);
    let count = rng.between(2, 5);
    let folks = people(&mut rng, count);
    let anchors: Vec<usize> = folks.iter().map(|_| rng.below(4)).collect();
    let mut outboxes: Vec<(uuid::Uuid, Vec<Change>)> = Vec::new();
    let servers = [
        Server::start(format!("sqlite://{}/a.db", dir.path().display())).await,
        Server::start(format!("sqlite://{}/b.db", dir.path().display())).await,
    ];
    let branches = [
        servers[0].db().create_branch(servers[0].org, "B").await.expect("branch"),
        servers[1].db().create_branch(servers[1].org, "B").await.expect("branch"),
    ];
    for t in 0..terminals {
        let mut store = Store::open(dir.path().join(format!("t{t}.db"))).expect("store");
        // The branch id is the same on both servers' terminals, as one organisation's would be.
        store.set_membership(servers[0].org, Some(branches[0])).expect("membership");
        for (p, person) in folks.iter().enumerate() {
            if rng.percent(60) {
                let keys = Keys::with(&mut rng, anchors[p]);
                let capture = person.capture(&mut rng, keys);
                let c = store.find_or_create(&capture).expect("capture");
                if rng.percent(40) {
                    let sale = SaleInput {
                        lines: vec![],
                        total_minor: Some(1_000),
                        currency: "USD".into(),
                        payment_method: PaymentMethod::Cash,
                    };
                    store.record_sale(c.customer.id, &sale).expect("sale");
                }
            }
        }
        let changes = store.pending_changes(10_000).expect("outbox").into_iter().map(|e| e.change).collect();
        outboxes.push((store.identity().device_id, changes));
    }
    let mut results = Vec::new();
    for server in &servers {
        deliver(server, &outboxes, &mut rng.fork()).await;
        results.push(live_values(server).await?);
    }
    if results[0] != results[1] {
        return Err(format!("the arrival order changed the customers:\n  {:?}\n  {:?}", results[0], results[1]));
    }
    Ok(())
}

/// Pushes each terminal's changes in order, in batches of random size, the terminals'
/// batches interleaved at random.
async fn deliver(server: &Server, outboxes: &[(uuid::Uuid, Vec<Change>)], rng: &mut Rng) {
    let mut next: Vec<usize> = vec![0; outboxes.len()];
    loop {
        let open: Vec<usize> = (0..outboxes.len()).filter(|&t| next[t] < outboxes[t].1.len()).collect();
        if open.is_empty() {
            return;
        }
        let t = *rng.pick(&open);
        let (device, changes) = &outboxes[t];
        let n = rng.between(1, changes.len() - next[t]);
        let batch = PushRequest { changes: changes[next[t]..next[t] + n].to_vec() };
        next[t] += n;
        let answer = server.push(*device, &batch).await.expect("push");
        for r in answer.results {
            if let pos_core::wire::ChangeOutcome::Rejected { errors } = r.outcome {
                panic!("a valid change was rejected: {errors:?}");
            }
        }
    }
}

/// The values of the server's live customers (ids, clocks and timestamps aside: the survivor of
/// a merge is whichever capture came first), each with its number of sales, sorted.
async fn live_values(server: &Server) -> Result<Vec<String>, String> {
    let db = server.db();
    let reviews = db.open_review_items(server.org).await.expect("review items");
    if !reviews.is_empty() {
        return Err(format!("a review item opened without a conflicting key: {reviews:?}"));
    }
    let page = db.pull(server.org, 0, 5_000).await.expect("pull");
    let mut customers = BTreeMap::new();
    let mut sales: BTreeMap<uuid::Uuid, usize> = BTreeMap::new();
    for item in page.items {
        match item {
            PulledItem::Customer { customer } if customer.merged_into.is_none() => {
                customers.insert(customer.id, customer);
            }
            PulledItem::Sale { sale } => *sales.entry(sale.customer_id).or_default() += 1,
            _ => {}
        }
    }
    let mut values: Vec<String> = customers
        .values()
        .map(|c| {
            let fields: BTreeMap<String, serde_json::Value> =
                c.to_fields().into_iter().map(|(name, s)| (name, s.value)).collect();
            format!("{} sales {}", serde_json::to_string(&fields).unwrap(), sales.get(&c.id).unwrap_or(&0))
        })
        .collect();
    values.sort();
    Ok(values)
}
