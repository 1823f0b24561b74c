//! What the desktop end-to-end tests share: a shop (a real sync server on embedded SQLite with
//! an organisation, registration codes, a cashier and a manager), launching the app and signing
//! in through its window, reading the status bar, and asking the server over its REST API.

use crate::webdriver::{Display, Session};
use crate::{admin, binary, organisation_with_codes, Server, Terminal};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub const WAIT: Duration = Duration::from_secs(20);
pub const PASSWORD: &str = "clave-segura-1";

/// One window at a time: WebKitGTK renders in software under Xvfb, and several windows painting
/// at once on a loaded two-core machine made screenshots time out.
static ONE_WINDOW: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn one_window() -> std::sync::MutexGuard<'static, ()> {
    ONE_WINDOW.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Where screenshots go (`target/screenshots/`); the README's pictures in `docs/` are these.
pub fn screenshots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots")
}

/// A sync server with one organisation, its registration codes, and a user of each role.
#[derive(Debug)]
pub struct Shop {
    pub server: Server,
    pub org: String,
    pub codes: Vec<String>,
    pub cashier: String,
    pub manager: String,
}

impl Shop {
    pub fn new(terminals: usize) -> Self {
        let server = Server::sqlite();
        let (org, codes) = organisation_with_codes(&server.database_url, terminals);
        let user = |role: &str| {
            let name = format!("{role}-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
            admin(
                &server.database_url,
                &["create-user", "--org", &org, "--username", &name, "--password", PASSWORD, "--role", role],
            );
            name
        };
        let (cashier, manager) = (user("cashier"), user("manager"));
        Self { server, org, codes, cashier, manager }
    }

    /// A headless terminal registered with code `code` and synced once.
    pub fn terminal(&self, code: usize) -> Terminal {
        let t = Terminal::new();
        t.ok(&["register", "--server", &self.server.url, "--code", &self.codes[code], "--name", "Caja CLI"]);
        t.ok(&["sync"]);
        t
    }

    /// The launch options that register the app with code `code` at start.
    pub fn register_args(&self, code: usize) -> Vec<String> {
        vec!["--server".into(), self.server.url.clone(), "--registration-code".into(), self.codes[code].clone()]
    }

    /// The REST API as `username`.
    pub fn api(&self, username: &str) -> Api {
        Api::sign_in(&self.server.url, username)
    }
}

/// The app on the store in `data_dir`, in `lang`, with `extra` launch options; returns once the
/// window shows its first screen.
pub fn launch(display: &Display, data_dir: &Path, lang: &str, extra: &[String]) -> Session {
    let mut args = vec!["--data-dir".to_owned(), data_dir.display().to_string(), "--lang".to_owned(), lang.to_owned()];
    args.extend(extra.iter().cloned());
    let app = display.launch(&binary("pos-desktop"), &args);
    app.find("#setup, #sign-in", WAIT);
    app
}

pub fn focused(app: &Session) -> String {
    app.execute("return document.activeElement ? document.activeElement.id : ''", json!([]))
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// Signs in through the sign-in screen and waits for the counter, search box focused.
pub fn sign_in(app: &Session, username: &str) {
    app.find("#sign-in", WAIT);
    app.replace_text(&app.find("#signin-username", WAIT), username);
    app.replace_text(&app.find("#signin-password", WAIT), PASSWORD);
    app.click(&app.find("#signin-submit", WAIT));
    app.find("#search", WAIT);
    app.wait_until("search box focused", WAIT, || focused(app) == "search");
}

pub fn pending(app: &Session) -> String {
    app.try_find("#status-pending").and_then(|e| app.attribute(&e, "data-pending")).unwrap_or_default()
}

pub fn connection(app: &Session) -> String {
    app.try_find("#status-connection").and_then(|e| app.attribute(&e, "data-connection")).unwrap_or_default()
}

/// Polls `check` until it holds or `timeout` passes.
pub fn eventually(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let start = Instant::now();
    while !check() {
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The server's REST API with a user's access token: how tests ask the server what arrived.
#[derive(Debug)]
pub struct Api {
    http: reqwest::blocking::Client,
    base: String,
    access: String,
}

impl Api {
    pub fn sign_in(base: &str, username: &str) -> Self {
        let http = reqwest::blocking::Client::new();
        let pair: Value = http
            .post(format!("{base}/api/token/"))
            .json(&json!({ "username": username, "password": PASSWORD }))
            .send()
            .and_then(|r| r.error_for_status())
            .and_then(|r| r.json())
            .expect("sign in to the server");
        Self { http, base: base.to_owned(), access: pair["access"].as_str().expect("access token").to_owned() }
    }

    /// `GET path` → (status, body).
    pub fn get(&self, path: &str) -> (u16, Value) {
        let res = self.http.get(format!("{}{path}", self.base)).bearer_auth(&self.access).send().expect("GET");
        let status = res.status().as_u16();
        (status, res.json().unwrap_or(Value::Null))
    }

    pub fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let res =
            self.http.post(format!("{}{path}", self.base)).bearer_auth(&self.access).json(&body).send().expect("POST");
        let status = res.status().as_u16();
        (status, res.json().unwrap_or(Value::Null))
    }
}
