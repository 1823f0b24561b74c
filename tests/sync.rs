//! Sync end to end: a real `sync-server` on a loopback port, real terminal stores on disk driven
//! through the `pos-terminal` binary (and, where a test must cut a push short, the sync client
//! library). DESIGN.md I1 (no duplicates), I2 (nothing lost) and I3 (convergence).

use pos_e2e::{organisation_with_codes, postgres_url, Server, Terminal};
use serde_json::Value;
use std::collections::BTreeMap;

fn registered(server: &Server, code: &str, name: &str) -> Terminal {
    let t = Terminal::new();
    t.ok(&["register", "--server", &server.url, "--code", code, "--name", name]);
    t
}

/// Live customers of a terminal by id, without field clocks (compared across terminals).
fn live(t: &Terminal) -> BTreeMap<String, Value> {
    let page = t.ok(&["search", "--page-size", "200"]);
    page["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.as_object_mut().unwrap().remove("clocks");
            c.as_object_mut().unwrap().remove("updated_at");
            (c["id"].as_str().unwrap().to_owned(), c)
        })
        .collect()
}

#[test]
fn two_terminals_capture_the_same_person_offline_and_end_with_one_customer() {
    let server = Server::sqlite();
    let (_org, codes) = organisation_with_codes(&server.database_url, 2);
    let a = registered(&server, &codes[0], "Caja 1");
    let b = registered(&server, &codes[1], "Caja 2");
    // Offline, each captures the same person, written differently.
    a.ok(&["add", "--name", "José", "--surname", "Pérez", "--phone", "0414-123.45.67", "--city", "Caracas"]);
    b.ok(&["add", "--name", "jose", "--surname", "perez", "--phone", "+58 414 1234567", "--email", "JOSE@correo.com"]);
    assert_eq!(a.ok(&["sync"])["acknowledged"], 1);
    let report = b.ok(&["sync"]);
    assert_eq!(report["merged"], 1, "the second capture merges into the first: {report}");
    a.ok(&["sync"]);
    let (on_a, on_b) = (live(&a), live(&b));
    assert_eq!(on_a.len(), 1);
    assert_eq!(on_a, on_b, "both terminals hold the same customer with the same fields");
    let only = on_a.values().next().unwrap();
    assert_eq!((only["city"].as_str(), only["email"].as_str()), (Some("Caracas"), Some("jose@correo.com")));
    assert_eq!(a.ok(&["outbox"])["pending"], 0);
}

#[test]
fn a_cross_key_match_merges_by_phone_and_opens_a_review_item() {
    let server = Server::sqlite();
    let (org, codes) = organisation_with_codes(&server.database_url, 2);
    let a = registered(&server, &codes[0], "Caja 1");
    let b = registered(&server, &codes[1], "Caja 2");
    let by_phone = a.ok(&["add", "--name", "Ana", "--surname", "Rojas", "--phone", "0412-111.11.11"]);
    let by_email = a.ok(&["add", "--name", "Ana", "--surname", "Rojas", "--email", "ana@x.com"]);
    a.ok(&["sync"]);
    // Terminal B never saw either and captures both keys on one record.
    b.ok(&["add", "--name", "Ana", "--surname", "Rojas", "--phone", "04121111111", "--email", "ana@x.com"]);
    assert_eq!(b.ok(&["sync"])["merged"], 1);
    let reviews = server.admin(&["review-items", "--org", &org]);
    assert_eq!(reviews.as_array().unwrap().len(), 1, "{reviews}");
    assert_eq!(reviews[0]["customer_a"], by_phone["id"]);
    assert_eq!(reviews[0]["customer_b"], by_email["id"]);
    assert_eq!(reviews[0]["match_key"], "email");
    let on_b = live(&b);
    assert_eq!(on_b.len(), 2, "phone customer and email customer stay apart until a manager merges them");
    assert_eq!(on_b[by_phone["id"].as_str().unwrap()]["email"], Value::Null);
}

#[test]
fn captures_made_while_the_server_is_down_arrive_when_it_returns() {
    let mut server = Server::sqlite();
    let (_org, codes) = organisation_with_codes(&server.database_url, 2);
    let t = registered(&server, &codes[0], "Caja 1");
    server.stop();
    let eva = t.ok(&["add", "--name", "Eva", "--surname", "Luna", "--phone", "0416-555.12.34"]);
    t.ok(&["sale", "--phone", "0416-555.12.34", "--name", "Eva", "--surname", "Luna", "--total", "10"]);
    let offline = t.run(&["sync"]);
    assert_eq!(offline.code, 3, "an unreachable server is a transient failure: {:?}", offline.stderr);
    assert_eq!(offline.stderr["error"]["kind"], "offline");
    assert_eq!(t.ok(&["outbox"])["pending"], 2, "the customer and the sale wait in the outbox");

    server.restart();
    let report = t.ok(&["sync"]);
    assert_eq!((report["acknowledged"].as_u64(), report["pending"].as_u64()), (Some(2), Some(0)), "{report}");
    // A terminal registered afterwards bootstraps the customer and the sale by pulling.
    let other = registered(&server, &codes[1], "Caja 2");
    other.ok(&["sync"]);
    let shown = other.ok(&["show", eva["id"].as_str().unwrap()]);
    assert_eq!(shown["customer"]["phone"], "+584165551234");
    assert_eq!(shown["sales_summary"]["purchase_count"], 1);
}

#[test]
fn twenty_terminals_through_two_servers_on_postgres_converge_without_duplicates() {
    let db = postgres_url();
    let servers = [Server::start(&db), Server::start(&db)];
    let (_org, codes) = organisation_with_codes(&db, 21);
    let terminals: Vec<Terminal> =
        (0..20).map(|i| registered(&servers[i % 2], &codes[i], &format!("Caja {i}"))).collect();
    // Thirty people; each terminal captures twelve of them, overlapping with its neighbours,
    // in its own written forms.
    for (i, t) in terminals.iter().enumerate() {
        for k in 0..12 {
            let person = (i * 3 + k) % 30;
            let phone =
                if (i + k) % 2 == 0 { format!("0424-700.00.{person:02}") } else { format!("+58 424 70000{person:02}") };
            t.ok(&[
                "add",
                "--name",
                &format!("Persona{person}"),
                "--surname",
                "Prueba",
                "--phone",
                &phone,
                "--notes",
                &format!("caja {i}"),
            ]);
        }
    }
    // All terminals sync at once, then once more each to pull what the others pushed.
    let handles: Vec<_> = terminals.iter().map(|t| t.spawn(&["sync"])).collect();
    for h in handles {
        let out = h.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    for t in &terminals {
        t.ok(&["sync"]);
    }
    let fresh = registered(&servers[0], &codes[20], "Nueva");
    fresh.ok(&["sync"]);
    let central = live(&fresh);
    assert_eq!(central.len(), 30, "one customer per person (I1)");
    let phones: std::collections::BTreeSet<_> =
        central.values().map(|c| c["phone"].as_str().unwrap().to_owned()).collect();
    assert_eq!(phones.len(), 30);
    for (i, t) in terminals.iter().enumerate() {
        assert_eq!(t.ok(&["outbox"])["pending"], 0, "terminal {i} has nothing left to push (I2)");
        assert_eq!(live(t), central, "terminal {i} equals the central state (I3)");
    }
}

#[test]
fn a_push_whose_answer_was_lost_is_sent_again_without_creating_a_duplicate() {
    let server = Server::sqlite();
    let (_org, codes) = organisation_with_codes(&server.database_url, 2);
    let t = registered(&server, &codes[0], "Caja 1");
    t.ok(&["add", "--name", "Eva", "--surname", "Luna", "--phone", "0416-555.12.34"]);
    // The request reaches the server and is applied, but the answer never reaches the terminal
    // (the connection dropped): the entry stays in the outbox.
    {
        let store = pos_store::Store::open(&t.db).unwrap();
        let client = pos_sync::SyncClient::new(&server.url, &store.sync_value("credential").unwrap().unwrap());
        let changes = store.pending_changes(100).unwrap().into_iter().map(|e| e.change).collect();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let lost = runtime.block_on(client.push(&pos_core::wire::PushRequest { changes })).unwrap();
        assert_eq!(lost.results.len(), 1);
    }
    assert_eq!(t.ok(&["outbox"])["pending"], 1);
    // The next round sends it again; the server answers from its record of the change.
    let report = t.ok(&["sync"]);
    assert_eq!((report["acknowledged"].as_u64(), report["pending"].as_u64()), (Some(1), Some(0)), "{report}");
    let other = registered(&server, &codes[1], "Caja 2");
    other.ok(&["sync"]);
    assert_eq!(live(&other).len(), 1, "one customer centrally, not two");
}

#[test]
fn a_push_cut_off_mid_request_and_retried_leaves_no_duplicate() {
    use std::io::{Read, Write};
    let server = Server::sqlite();
    let (_org, codes) = organisation_with_codes(&server.database_url, 3);
    let t = registered(&server, &codes[0], "Caja 1");
    t.ok(&["add", "--name", "Eva", "--surname", "Luna", "--phone", "0416-555.12.34"]);
    t.ok(&["add", "--name", "Luis", "--surname", "Mora", "--email", "luis@correo.com"]);
    // Captured again at checkout: an edit of the same customer, a third outbox entry.
    t.ok(&["find-or-create", "--name", "Eva", "--surname", "Luna", "--phone", "04165551234", "--city", "Mérida"]);
    let (body, credential) = {
        let store = pos_store::Store::open(&t.db).unwrap();
        let changes = store.pending_changes(100).unwrap().into_iter().map(|e| e.change).collect();
        let body = serde_json::to_vec(&pos_core::wire::PushRequest { changes }).unwrap();
        (body, store.sync_value("credential").unwrap().unwrap())
    };
    // The connection drops half-way through the request body.
    let addr = server.url.trim_start_matches("http://");
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    write!(
        conn,
        "POST /api/v1/sync/push HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Device {credential}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    conn.write_all(&body[..body.len() / 2]).unwrap();
    conn.shutdown(std::net::Shutdown::Write).unwrap();
    // Whatever the server says about the torn request, it is not a success, and it is done with it.
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    assert!(!answer.starts_with("HTTP/1.1 2"), "a torn push must not be accepted: {answer}");
    drop(conn);
    let witness = registered(&server, &codes[1], "Testigo");
    witness.ok(&["sync"]);
    assert!(live(&witness).is_empty(), "the cut request applied nothing");
    assert_eq!(t.ok(&["outbox"])["pending"], 3, "the terminal still holds every change");

    let report = t.ok(&["sync"]);
    assert_eq!(report["pending"], 0, "{report}");
    assert_eq!(t.ok(&["outbox"])["pending"], 0);
    let fresh = registered(&server, &codes[2], "Nueva");
    fresh.ok(&["sync"]);
    let central = live(&fresh);
    assert_eq!(central.len(), 2, "one customer per person: {central:?}");
    let phones: Vec<_> = central.values().filter_map(|c| c["phone"].as_str()).collect();
    assert_eq!(phones, ["+584165551234"]);
    assert_eq!(live(&t), central, "the terminal converges on the central state");
}

/// The smallest divergence of issue 18: the server merges an earlier capture's cédula into a
/// later capture, keeping that capture's older clock; the terminal that made the later capture
/// kept its own newer blank and never took the cédula.
#[test]
fn a_cedula_merged_in_from_an_earlier_capture_reaches_the_terminal_of_the_later_one() {
    let server = Server::sqlite();
    let (_org, codes) = organisation_with_codes(&server.database_url, 2);
    let t1 = registered(&server, &codes[0], "Caja 1");
    let t2 = registered(&server, &codes[1], "Caja 2");
    t2.ok(&["add", "--name", "Ana", "--surname", "Rojas", "--phone", "04141234567", "--cedula", "V-12345678"]);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let ana = t1.ok(&["add", "--name", "Ana", "--surname", "Rojas", "--phone", "04141234567"]);
    for t in [&t1, &t2, &t1, &t2] {
        t.ok(&["sync"]);
    }
    let on_t1 = t1.ok(&["show", ana["id"].as_str().unwrap()]);
    assert_eq!(on_t1["customer"]["identification"], "V-12345678", "{on_t1}");
    assert_eq!(live(&t1), live(&t2));
}

/// A terminal's find-or-create fills a cédula that, at the server, another customer holds:
/// the edit is applied without it, a review item names both, the passport of the same change
/// is kept, and the terminal ends with the server's state.
#[test]
fn a_filled_key_someone_else_holds_opens_a_review_instead_of_a_rejection() {
    let server = Server::sqlite();
    let (org, codes) = organisation_with_codes(&server.database_url, 2);
    let t1 = registered(&server, &codes[0], "Caja 1");
    let t2 = registered(&server, &codes[1], "Caja 2");
    let ana = t1.ok(&["add", "--name", "Ana", "--surname", "Rojas", "--phone", "0414-123.45.67"]);
    t1.ok(&["sync"]);
    let other =
        t2.ok(&["add", "--name", "Ana", "--surname", "Rojas", "--email", "ana@x.com", "--cedula", "V-12345678"]);
    t2.ok(&["sync"]);
    // Terminal 1 has not pulled terminal 2's customer: its checkout finds Ana by phone and
    // fills her blank cédula and passport.
    t1.ok(&[
        "find-or-create",
        "--name",
        "Ana",
        "--surname",
        "Rojas",
        "--phone",
        "04141234567",
        "--cedula",
        "v12345678",
        "--passport",
        "p 123456",
    ]);
    let report = t1.ok(&["sync"]);
    assert_eq!(report["rejected"], 0, "{report}");
    t1.ok(&["sync"]);
    assert_eq!(t1.ok(&["outbox"])["rejected"].as_array().map_or(0, Vec::len), 0);
    let on_t1 = t1.ok(&["show", ana["id"].as_str().unwrap()]);
    assert_eq!(on_t1["customer"]["identification"], serde_json::Value::Null, "the cédula stays with its owner");
    assert_eq!(on_t1["customer"]["passport_number"], "P123456", "the rest of the change applied");
    let reviews = server.admin(&["review-items", "--org", &org]);
    assert_eq!(reviews.as_array().unwrap().len(), 1, "{reviews}");
    assert_eq!((&reviews[0]["customer_a"], &reviews[0]["customer_b"]), (&ana["id"], &other["id"]));
    assert_eq!(reviews[0]["match_key"], "identification");
    t2.ok(&["sync"]);
    assert_eq!(live(&t1), live(&t2));
}
