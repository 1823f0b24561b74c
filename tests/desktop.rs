//! The desktop app end to end: the real binary in a real window under Xvfb, driven over
//! WebDriver (tauri-driver + WebKitWebDriver), on a real store and a real sync server. Each
//! test saves screenshots of the screens it visits under `target/screenshots/`; the README's
//! pictures in `docs/` come from these.

use pos_e2e::webdriver::{keys, Display, Session};
use pos_e2e::{binary, organisation_with_codes, Server, Terminal};
use std::path::{Path, PathBuf};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

/// One window at a time: WebKitGTK renders in software under Xvfb, and three windows painting
/// at once on a loaded two-core machine made screenshots time out.
static ONE_WINDOW: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_window() -> std::sync::MutexGuard<'static, ()> {
    ONE_WINDOW.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots")
}

/// The app on the store in `data_dir`, with `extra` launch options.
fn launch(display: &Display, data_dir: &Path, extra: &[&str]) -> Session {
    let mut args = vec!["--data-dir".to_owned(), data_dir.display().to_string(), "--lang".to_owned(), "es".to_owned()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let app = display.launch(&binary("pos-desktop"), &args);
    // The search box has focus as soon as the window is up.
    app.find("#search", WAIT);
    app.wait_until("search box focused", WAIT, || {
        app.execute("return document.activeElement && document.activeElement.id", serde_json::json!([])) == "search"
    });
    app
}

fn data_dir(t: &Terminal) -> &Path {
    t.db.parent().expect("store dir")
}

fn pending(app: &Session) -> String {
    app.try_find("#status-pending").and_then(|e| app.attribute(&e, "data-pending")).unwrap_or_default()
}

fn connection(app: &Session) -> String {
    app.try_find("#status-connection").and_then(|e| app.attribute(&e, "data-connection")).unwrap_or_default()
}

/// Opens the capture form with F2 from the search box and fills it in.
fn capture(app: &Session, fields: &[(&str, &str)]) {
    let search = app.find("#search", WAIT);
    app.type_into(&search, keys::F2);
    app.find("#customer-form", WAIT);
    for (field, value) in fields {
        let input = app.find(&format!("#customer-{field}"), WAIT);
        app.replace_text(&input, value);
    }
}

#[test]
fn a_cedula_typed_with_dots_finds_the_customer_and_enter_attaches_them() {
    let _window = one_window();
    let t = Terminal::new();
    t.ok(&["add", "--name", "María", "--surname", "González", "--phone", "0414-555.12.34", "--cedula", "V-12345678"]);
    t.ok(&["add", "--name", "Mario", "--surname", "Gómez", "--phone", "0412-555.98.76", "--cedula", "V-12345679"]);
    let display = Display::start();
    let app = launch(&display, data_dir(&t), &[]);

    let search = app.find("#search", WAIT);
    app.type_into(&search, "v12.345.678");
    app.wait_until("one exact result", WAIT, || app.text_of("#results").contains("María González"));
    let results = app.text_of("#results");
    assert!(!results.contains("Mario"), "only the exact cédula matches: {results}");
    assert!(results.contains("cédula"), "the result says which key matched: {results}");
    app.screenshot(&screenshots().join("counter.png"));

    app.type_into(&search, keys::ENTER);
    app.wait_until("customer attached to the sale", WAIT, || app.text_of("#attached").contains("María González"));
    assert_eq!(app.text_of("#results"), "", "attaching clears the result list");

    // A name prefix finds both, by name.
    app.type_into(&search, "mar g");
    app.wait_until("two name matches", WAIT, || {
        let r = app.text_of("#results");
        r.contains("María González") && r.contains("Mario Gómez")
    });

    // ↓ then Enter attaches the second result.
    let second = app.text_of("#results li:nth-child(2) .hit-name");
    assert!(["María González", "Mario Gómez"].contains(&second.trim()), "second result: {second:?}");
    app.type_into(&search, keys::ARROW_DOWN);
    app.type_into(&search, keys::ENTER);
    app.wait_until("second result attached", WAIT, || app.text_of("#attached").contains(second.trim()));

    // Back to María; F9 checks out a total typed in local notation.
    app.type_into(&search, "v12.345.678");
    app.wait_until("María found", WAIT, || app.text_of("#results").contains("María González"));
    app.type_into(&search, keys::ENTER);
    app.wait_until("María attached", WAIT, || app.text_of("#attached").contains("María González"));
    let total = app.find("#sale-total", WAIT);
    app.type_into(&total, "1.234,50");
    app.type_into(&total, keys::F9);
    app.wait_until("sale recorded", WAIT, || app.text_of("#sale-done").contains("1.234,50"));
    let id = t.ok(&["lookup", "V-12345678"])[0]["customer"]["id"].as_str().expect("id").to_owned();
    let history = t.ok(&["history", &id]);
    assert_eq!(history["count"], 1, "the sale is in the store: {history}");
    assert_eq!(history["results"][0]["total_minor"], 123_450);

    // The customer card shows the purchase in its summary and history.
    app.replace_text(&search, "0414-555.12.34");
    app.click(&app.find("#results .hit .link", WAIT));
    app.find("#customer-card", WAIT);
    app.wait_until("card with the purchase", WAIT, || app.text_of("#card-summary").contains("1 compra"));
    assert!(app.text_of("#customer-card").contains("V-12.345.678"), "the cédula as cashiers write it");
    app.type_into(&app.find("#customer-card button", WAIT), keys::ESCAPE);
    app.wait_until("card closed, search focused again", WAIT, || {
        app.try_find("#customer-card").is_none()
            && app.execute("return document.activeElement.id", serde_json::json!([])) == "search"
    });
}

#[test]
fn capture_shows_the_phone_error_as_you_type_then_saves_with_a_valid_phone() {
    let _window = one_window();
    let t = Terminal::new();
    let display = Display::start();
    let app = launch(&display, data_dir(&t), &[]);

    capture(&app, &[("first_name", "Ana"), ("surname", "Rojas"), ("phone", "0414-12")]);
    app.wait_until("phone error shown", WAIT, || !app.text_of("#error-phone").is_empty());
    let message = app.text_of("#error-phone");
    assert!(message.to_lowercase().contains("teléfono"), "the error names the field in Spanish: {message}");
    app.screenshot(&screenshots().join("capture-error.png"));
    // Saving with the error writes nothing.
    app.click(&app.find("#customer-save", WAIT));
    assert!(app.try_find("#customer-form").is_some(), "the form stays open");
    assert_eq!(t.ok(&["lookup", "Ana Rojas"]).as_array().map(Vec::len), Some(0));

    let phone = app.find("#customer-phone", WAIT);
    app.replace_text(&phone, "0414-765.43.21");
    app.wait_until("phone error gone", WAIT, || app.try_find("#error-phone").is_none());
    app.click(&app.find("#customer-save", WAIT));
    app.wait_until("form closed, customer attached", WAIT, || {
        app.try_find("#customer-form").is_none() && app.text_of("#attached").contains("Ana Rojas")
    });
    let found = app.invoke("quick_lookup", serde_json::json!({ "q": "04147654321" }));
    assert_eq!(found[0]["phone"], "+584147654321", "stored normalised: {found}");
    assert_eq!(pending(&app), "1", "the capture waits in the outbox (not registered)");

    // Settings: a registration with a malformed server address names the field.
    app.click(&app.find("#open-settings", WAIT));
    app.replace_text(&app.find("#settings-server", WAIT), "192.168.1.10");
    app.replace_text(&app.find("#settings-code", WAIT), "K7QM-2XPD-9HRT");
    app.click(&app.find("#settings-register", WAIT));
    app.wait_until("server field error", WAIT, || {
        app.text_of("#settings").contains("Escriba la dirección del servidor")
    });
}

#[test]
fn captures_made_while_the_server_is_down_arrive_when_it_returns() {
    let _window = one_window();
    let mut server = Server::sqlite();
    let (_org, codes) = organisation_with_codes(&server.database_url, 2);
    let t = Terminal::new();
    let display = Display::start();
    let app = launch(&display, data_dir(&t), &["--server", &server.url, "--registration-code", &codes[0]]);
    app.wait_until("online", WAIT, || connection(&app) == "online");

    server.stop();
    app.wait_until("offline", WAIT, || connection(&app) == "offline");
    capture(&app, &[("first_name", "Luis"), ("surname", "Mora"), ("phone", "0424-111.22.33")]);
    app.click(&app.find("#customer-save", WAIT));
    app.wait_until("first saved", WAIT, || app.try_find("#customer-form").is_none());
    capture(&app, &[("first_name", "Carla"), ("surname", "Díaz"), ("email", "carla@correo.com")]);
    app.click(&app.find("#customer-save", WAIT));
    app.wait_until("second saved", WAIT, || app.try_find("#customer-form").is_none());
    app.wait_until("two pending", WAIT, || pending(&app) == "2");
    app.screenshot(&screenshots().join("offline.png"));

    server.restart();
    app.wait_until("pending falls to 0", Duration::from_secs(30), || pending(&app) == "0");
    assert_eq!(connection(&app), "online");

    // Ask the server: a second terminal bootstraps and finds both customers.
    let other = Terminal::new();
    other.ok(&["register", "--server", &server.url, "--code", &codes[1], "--name", "Caja 2"]);
    other.ok(&["sync"]);
    assert_eq!(other.ok(&["lookup", "0424-111.22.33"])[0]["customer"]["first_name"], "Luis");
    assert_eq!(other.ok(&["lookup", "carla@correo.com"])[0]["customer"]["first_name"], "Carla");
}
