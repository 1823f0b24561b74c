//! The desktop app at the counter, end to end: the real binary in a real window under Xvfb,
//! driven over WebDriver (tauri-driver + WebKitWebDriver), on a real store and a real sync
//! server, signed in as a cashier. Each test saves screenshots of the screens it visits under
//! `target/screenshots/`; the README's pictures in `docs/` come from these.

use pos_e2e::app::{connection, eventually, launch, one_window, pending, screenshots, sign_in, Shop, WAIT};
use pos_e2e::webdriver::{keys, Display, Session};
use pos_e2e::Terminal;
use std::path::Path;
use std::time::Duration;

fn data_dir(t: &Terminal) -> &Path {
    t.db.parent().expect("store dir")
}

/// Fills in the sign-in form and submits it, whatever the answer.
fn try_sign_in(app: &Session, username: &str, password: &str) {
    app.replace_text(&app.find("#signin-username", WAIT), username);
    app.replace_text(&app.find("#signin-password", WAIT), password);
    app.click(&app.find("#signin-submit", WAIT));
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
    let shop = Shop::new(1);
    let t = Terminal::new();
    t.ok(&["add", "--name", "María", "--surname", "González", "--phone", "0414-555.12.34", "--cedula", "V-12345678"]);
    t.ok(&["add", "--name", "Mario", "--surname", "Gómez", "--phone", "0412-555.98.76", "--cedula", "V-12345679"]);
    let display = Display::start();
    let app = launch(&display, data_dir(&t), "es", &shop.register_args(0));
    sign_in(&app, &shop.cashier);

    let search = app.find("#search", WAIT);
    app.type_into(&search, "v12.345.678");
    app.wait_until("one exact result", WAIT, || app.text_of("#results").contains("María González"));
    let results = app.text_of("#results");
    assert!(!results.contains("Mario"), "only the exact cédula matches: {results}");
    assert!(results.contains("cédula"), "the result says which key matched: {results}");
    display.screenshot(&screenshots().join("counter.png"));

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
    let shop = Shop::new(1);
    let t = Terminal::new();
    let display = Display::start();
    let app = launch(&display, data_dir(&t), "es", &[]);

    // A new terminal asks for its server and one-time code first; a malformed address is named.
    app.find("#setup", WAIT);
    app.wait_until("the server field has the cursor", WAIT, || pos_e2e::app::focused(&app) == "settings-server");
    display.screenshot(&screenshots().join("setup.png"));
    app.replace_text(&app.find("#settings-server", WAIT), "192.168.1.10");
    app.replace_text(&app.find("#settings-code", WAIT), &shop.codes[0]);
    app.click(&app.find("#settings-register", WAIT));
    app.wait_until("server field error", WAIT, || app.text_of("#setup").contains("Escriba la dirección del servidor"));
    app.replace_text(&app.find("#settings-server", WAIT), &shop.server.url);
    app.click(&app.find("#settings-register", WAIT));
    // Registered: nobody is signed in yet.
    app.find("#sign-in", WAIT);
    display.screenshot(&screenshots().join("sign-in.png"));
    // A wrong password is refused at the password field, in Spanish.
    app.replace_text(&app.find("#signin-username", WAIT), &shop.cashier);
    app.replace_text(&app.find("#signin-password", WAIT), "no-es-la-clave");
    app.click(&app.find("#signin-submit", WAIT));
    app.wait_until("wrong password named", WAIT, || {
        app.text_of("#sign-in").contains("Usuario o contraseña incorrectos")
    });
    sign_in(&app, &shop.cashier);
    // A cashier sees the counter only: no manager screens.
    assert!(app.try_find("#nav-counter").is_some());
    for manager_only in ["#nav-customers", "#nav-review", "#nav-stats", "#nav-settings"] {
        assert!(app.try_find(manager_only).is_none(), "a cashier is not offered {manager_only}");
    }
    let refused = app.try_invoke("customer_stats", serde_json::json!({ "days": 30 }));
    assert_eq!(refused.unwrap_err()["kind"], "forbidden", "the command refuses a cashier too");

    capture(&app, &[("first_name", "Ana"), ("surname", "Rojas"), ("phone", "0414-12")]);
    app.wait_until("phone error shown", WAIT, || !app.text_of("#error-phone").is_empty());
    let message = app.text_of("#error-phone");
    assert!(message.to_lowercase().contains("teléfono"), "the error names the field in Spanish: {message}");
    display.screenshot(&screenshots().join("capture-error.png"));
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
    app.wait_until("the capture reached the server", WAIT, || pending(&app) == "0");
    let (status, on_server) = shop.api(&shop.manager).get("/api/v1/customers/quick-lookup/?q=04147654321");
    assert_eq!(status, 200, "{on_server}");
    assert_eq!(on_server["results"][0]["name"], "Ana", "{on_server}");
}

#[test]
fn captures_made_while_the_server_is_down_arrive_when_it_returns() {
    let _window = one_window();
    let mut shop = Shop::new(2);
    let t = Terminal::new();
    let display = Display::start();
    let app = launch(&display, data_dir(&t), "es", &shop.register_args(0));
    sign_in(&app, &shop.cashier);
    app.wait_until("online", WAIT, || connection(&app) == "online");
    // A mistyped password, refused by the server, does not make the terminal forget the user.
    app.click(&app.find("#sign-out", WAIT));
    try_sign_in(&app, &shop.cashier, "mal-escrita");
    app.wait_until("refused online", WAIT, || app.text_of("#sign-in").contains("Usuario o contraseña incorrectos"));

    shop.server.stop();
    app.wait_until("offline", WAIT, || connection(&app) == "offline");
    // The cashier signed in here while online, so they get in again while offline, with their
    // own password only; someone who never signed in here does not get in.
    try_sign_in(&app, &shop.manager, pos_e2e::app::PASSWORD);
    app.wait_until("unknown user refused offline", WAIT, || {
        app.text_of("#sign-in").contains("no ha iniciado sesión aquí")
    });
    try_sign_in(&app, &shop.cashier, "mal-escrita");
    app.wait_until("wrong password refused offline", WAIT, || {
        app.text_of("#sign-in").contains("Usuario o contraseña incorrectos")
    });
    sign_in(&app, &shop.cashier);
    assert!(app.text_of("#session-user").contains("sin conexión"), "an offline session says so");

    capture(&app, &[("first_name", "Luis"), ("surname", "Mora"), ("phone", "0424-111.22.33")]);
    app.click(&app.find("#customer-save", WAIT));
    app.wait_until("first saved", WAIT, || app.try_find("#customer-form").is_none());
    capture(&app, &[("first_name", "Carla"), ("surname", "Díaz"), ("email", "carla@correo.com")]);
    app.click(&app.find("#customer-save", WAIT));
    app.wait_until("second saved", WAIT, || app.try_find("#customer-form").is_none());
    app.wait_until("two pending", WAIT, || pending(&app) == "2");
    display.screenshot(&screenshots().join("offline.png"));

    shop.server.restart();
    app.wait_until("pending falls to 0", Duration::from_secs(30), || pending(&app) == "0");
    assert_eq!(connection(&app), "online");

    // Ask the server: both customers are there, and a second terminal bootstraps them.
    let api = shop.api(&shop.manager);
    let first_name =
        |q: &str| api.get(&format!("/api/v1/customers/quick-lookup/?q={q}")).1["results"][0]["name"].clone();
    eventually("both customers on the server", WAIT, || {
        first_name("04241112233") == "Luis" && first_name("carla@correo.com") == "Carla"
    });
    let other = shop.terminal(1);
    assert_eq!(other.ok(&["lookup", "0424-111.22.33"])[0]["customer"]["first_name"], "Luis");
    assert_eq!(other.ok(&["lookup", "carla@correo.com"])[0]["customer"]["first_name"], "Carla");
}
