//! The desktop app's manager screens end to end, in the real window under Xvfb over WebDriver,
//! against a real sync server: a manager signs in, edits a customer's preferences (the change
//! reaches the server), bulk-deactivates two customers, merges a suspected duplicate from the
//! review queue (every terminal then shows one customer with both histories), sees the stats,
//! and switches the window from English to Spanish. Screenshots of each screen go to
//! `target/screenshots/` (the README's copies are in `docs/`).

use pos_e2e::app::{eventually, launch, one_window, screenshots, sign_in, Shop, WAIT};
use pos_e2e::webdriver::{keys, Display, Session};
use pos_e2e::Terminal;
use serde_json::{json, Value};

fn id_of(t: &Terminal, query: &str) -> String {
    t.ok(&["lookup", query])[0]["customer"]["id"].as_str().expect("customer id").to_owned()
}

fn add_rosa(t: &Terminal, surname: &str, phone: &str, email: &str) {
    t.ok(&["add", "--name", "Rosa", "--surname", surname, "--phone", phone, "--email", email]);
}

fn open(app: &Session, screen: &str, root: &str) {
    app.click(&app.find(&format!("#nav-{screen}"), WAIT));
    app.find(root, WAIT);
}

fn count_attr(app: &Session, css: &str, attr: &str) -> i64 {
    app.try_find(css).and_then(|e| app.attribute(&e, attr)).and_then(|v| v.parse().ok()).unwrap_or(-1)
}

#[test]
fn a_manager_edits_preferences_deactivates_in_bulk_merges_a_duplicate_and_switches_language() {
    let _window = one_window();
    let shop = Shop::new(3);
    // Two branch terminals: the first captures Rosa twice under different details (with a sale
    // on the second record), the second — not yet aware of either — captures someone with the
    // first record's phone and the second record's email: the server merges that capture into
    // the first record and opens a review item for the two.
    let branch = shop.terminal(1);
    let late = shop.terminal(2);
    add_rosa(&branch, "Pérez", "0414-200.00.01", "rosa@correo.com");
    add_rosa(&branch, "Peres", "0414-200.00.02", "rosa.p@correo.com");
    let (rosa, rosa_b) = (id_of(&branch, "rosa@correo.com"), id_of(&branch, "rosa.p@correo.com"));
    branch.ok(&["sale", "--customer", &rosa_b, "--total", "50,00"]);
    branch.ok(&["add", "--name", "Pedro", "--surname", "Lara", "--phone", "0412-300.00.01", "--city", "Cumaná"]);
    branch.ok(&["add", "--name", "Luisa", "--surname", "Mar", "--phone", "0412-300.00.02", "--city", "Cumaná"]);
    branch.ok(&["add", "--name", "Juan", "--surname", "Sol", "--phone", "0412-300.00.03", "--city", "Mérida"]);
    branch.ok(&["sync"]);
    add_rosa(&late, "Pérez", "0414-200.00.01", "rosa.p@correo.com");
    late.ok(&["sync"]);
    let api = shop.api(&shop.manager);
    let (_, items) = api.get("/api/v1/customers/review-items/");
    assert_eq!(items["count"], 1, "the cross-key capture opened one review item: {items}");

    let data = tempfile::tempdir().expect("app data dir");
    let display = Display::start();
    let app = launch(&display, data.path(), "en", &shop.register_args(0));
    sign_in(&app, &shop.manager);
    for screen in ["#nav-counter", "#nav-customers", "#nav-review", "#nav-stats", "#nav-settings"] {
        assert!(app.try_find(screen).is_some(), "a manager is offered {screen}");
    }

    // The customer list, once the bootstrap pull has brought the five live customers.
    open(&app, "customers", "#customer-list");
    app.wait_until("five customers pulled", WAIT, || count_attr(&app, "#list-count", "data-count") == 5);
    display.screenshot(&screenshots().join("customers.png"));

    // Preferences: a bad contact window names its field; a good one saves and reaches the server.
    app.replace_text(&app.find("#list-search", WAIT), "rosa@correo.com");
    app.wait_until("one row", WAIT, || count_attr(&app, "#list-count", "data-count") == 1);
    app.click(&app.find("#customer-list .name", WAIT));
    app.click(&app.find("#edit-preferences", WAIT));
    app.find("#preferences-editor", WAIT);
    app.click(&app.find("#pref-channel-phone_call", WAIT));
    app.click(&app.find("#pref-channel-sms", WAIT));
    app.click(&app.find("#pref-type-promotional", WAIT));
    app.click(&app.find("#pref-window-between", WAIT));
    app.replace_text(&app.find("#pref-window-start", WAIT), "25:00");
    app.replace_text(&app.find("#pref-window-end", WAIT), "17:30");
    app.click(&app.find("#prefs-save", WAIT));
    app.wait_until("start time refused", WAIT, || {
        app.try_find("#preferences-editor label.invalid #pref-window-start").is_some()
    });
    app.replace_text(&app.find("#pref-window-start", WAIT), "09:00");
    app.click(&app.find("#prefs-save", WAIT));
    app.find("#prefs-saved", WAIT);
    display.screenshot(&screenshots().join("preferences.png"));
    eventually("preferences on the server", WAIT, || {
        let (_, p) = api.get(&format!("/api/v1/customers/{rosa}/preferences/"));
        p["channels"] == json!(["email", "whatsapp", "phone_call"])
            && p["notification_types"].as_array().is_some_and(|t| t.contains(&json!("promotional")))
            && p["contact_window"]["start"] == "09:00:00"
            && p["contact_window"]["end"] == "17:30:00"
    });
    app.click(&app.find("#prefs-close", WAIT));
    app.wait_until("card shows the new channels", WAIT, || app.text_of("#card-channels").contains("Phone call"));
    app.type_into(&app.find("#customer-card button", WAIT), keys::ESCAPE);
    app.wait_until("card closed", WAIT, || app.try_find("#customer-card").is_none());

    // Bulk: the two customers of Cumaná, deactivated together.
    app.replace_text(&app.find("#list-search", WAIT), " ");
    app.replace_text(&app.find("#list-city", WAIT), "Cumaná");
    app.wait_until("two rows", WAIT, || count_attr(&app, "#list-count", "data-count") == 2);
    app.click(&app.find("#select-page", WAIT));
    app.wait_until("two selected", WAIT, || count_attr(&app, "#list-selected", "data-selected") == 2);
    app.click(&app.find("#bulk-deactivate", WAIT));
    app.wait_until("bulk done", WAIT, || app.text_of("#list-message").contains("2 customers deactivated"));
    let cumana = [id_of(&branch, "0412-300.00.01"), id_of(&branch, "0412-300.00.02")];
    eventually("both inactive on the server", WAIT, || {
        cumana.iter().all(|id| api.get(&format!("/api/v1/customers/{id}/")).1["is_active"] == false)
    });
    assert_eq!(api.get(&format!("/api/v1/customers/{}/", id_of(&branch, "0412-300.00.03"))).1["is_active"], true);

    // Review: the pair side by side with the key they share; keep the first record.
    open(&app, "review", "#review-queue");
    app.find(".review-item", WAIT);
    let item = app.text_of(".review-item");
    assert!(item.contains("Rosa Pérez") && item.contains("Rosa Peres"), "both customers shown: {item}");
    assert!(item.contains("found by email"), "the key that linked them is named: {item}");
    display.screenshot(&screenshots().join("review.png"));
    app.click(&app.find(&format!(".side[data-id='{rosa}'] input[type=radio]"), WAIT));
    app.click(&app.find(".review-item .merge", WAIT));
    app.wait_until("merged", WAIT, || app.text_of("#review-message").contains("Merged: Rosa Pérez"));
    assert_eq!(api.get("/api/v1/customers/review-items/").1["count"], 0);
    let (_, summary) = api.get(&format!("/api/v1/customers/{rosa}/sales-summary/"));
    assert_eq!(summary["total_purchases"], 1, "the second record's sale moved to the survivor: {summary}");

    // Every terminal shows one Rosa with the sale: this window (after its pull) and the branch's.
    app.wait_until("one Rosa here, with the sale", WAIT, || {
        let hits = app.invoke("quick_lookup", json!({ "q": "rosa" }));
        let card = app.invoke("customer_card", json!({ "id": rosa }));
        hits.as_array().map(Vec::len) == Some(1) && card["summary"]["purchase_count"] == 1
    });
    branch.ok(&["sync"]);
    let hits: Value = branch.ok(&["lookup", "rosa"]);
    assert_eq!(hits.as_array().map(Vec::len), Some(1), "one Rosa at the branch: {hits}");
    assert_eq!(branch.ok(&["history", &rosa])["count"], 1, "with the sale");

    // Stats, in English, then the same screen in Spanish after switching at run time.
    open(&app, "stats", "#stats");
    app.wait_until("four live, two inactive", WAIT, || {
        count_attr(&app, "#stats-total", "data-count") == 4 && count_attr(&app, "#stats-inactive", "data-count") == 2
    });
    let bars = app.execute("return document.querySelectorAll('#per-day-chart rect').length", json!([]));
    assert_eq!(bars, 30, "one bar per day");
    let today: i64 = app
        .execute(
            "const r = document.querySelectorAll('#per-day-chart rect'); return +r[r.length - 1].dataset.count",
            json!([]),
        )
        .as_i64()
        .expect("count");
    assert_eq!(today, 4, "today's bar counts today's live customers");
    assert!(app.text_of("#stats").contains("Customer statistics"));
    display.screenshot(&screenshots().join("stats.png"));

    open(&app, "settings", "#settings");
    display.screenshot(&screenshots().join("settings.png"));

    open(&app, "stats", "#stats");
    app.click(&app.find("#lang-es", WAIT));
    app.wait_until("the screen is in Spanish", WAIT, || {
        app.text_of("#stats").contains("Estadísticas de clientes") && app.text_of("#nav-customers") == "Clientes"
    });
    assert!(app.text_of("#stats").contains("Inactivos"));
    assert_eq!(app.execute("return document.documentElement.lang", json!([])), "es");
    assert_eq!(app.invoke("app_info", json!({}))["settings"]["language"], "es", "the choice is kept");
}
