//! Drives the real desktop app in a real window: an Xvfb display, `tauri-driver` in front of
//! WebKitWebDriver, and a small W3C WebDriver client (find, type, click, read, run script,
//! screenshot). Used by the desktop end-to-end tests and the desktop benchmark.

use serde_json::{json, Value};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Keys as WebDriver names them.
pub mod keys {
    pub const ENTER: &str = "\u{E007}";
    pub const ESCAPE: &str = "\u{E00C}";
    pub const ARROW_DOWN: &str = "\u{E015}";
    pub const F2: &str = "\u{E032}";
    pub const F9: &str = "\u{E039}";
    pub const CONTROL: &str = "\u{E009}";
    /// Releases the modifier keys pressed so far.
    pub const NULL: &str = "\u{E000}";
    pub const BACKSPACE: &str = "\u{E003}";
}

/// `tauri-driver`, from `cargo install` (the README's test command installs it).
fn tauri_driver() -> PathBuf {
    if let Ok(path) = std::env::var("TAURI_DRIVER") {
        return path.into();
    }
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").expect("HOME")).join(".cargo"));
    home.join("bin/tauri-driver")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port()
}

fn wait_for(what: &str, timeout: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A virtual display and a `tauri-driver` attached to it, stopped on drop.
#[derive(Debug)]
pub struct Display {
    xvfb: Child,
    driver: Child,
    port: u16,
    pub number: u32,
}

impl Display {
    pub fn start() -> Self {
        // A display number no other test (or run) is using: the lock file tells.
        let number = (100..400)
            .find(|n| {
                !Path::new(&format!("/tmp/.X{n}-lock")).exists()
                    && !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                    && std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(format!("/tmp/.pos-e2e-display-{n}"))
                        .is_ok()
            })
            .expect("a free X display number");
        let xvfb = Command::new("Xvfb")
            .args([format!(":{number}").as_str(), "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start Xvfb (the test command installs it)");
        wait_for("Xvfb", Duration::from_secs(10), || Path::new(&format!("/tmp/.X11-unix/X{number}")).exists());
        let port = free_port();
        let native = free_port();
        let driver = Command::new(tauri_driver())
            .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
            // Its own process group, so the WebKitWebDriver and app it starts stop with it.
            .process_group(0)
            .env("DISPLAY", format!(":{number}"))
            .env("GDK_BACKEND", "x11")
            // The software renderer: no GPU under Xvfb.
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .env("LIBGL_ALWAYS_SOFTWARE", "1")
            // The app keeps its device credential in the test's data directory, never in the
            // keyring of a developer's desktop session.
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start tauri-driver (the test command installs it)");
        wait_for("tauri-driver", Duration::from_secs(10), || TcpStream::connect(("127.0.0.1", port)).is_ok());
        Self { xvfb, driver, port, number }
    }

    /// Launches `app` with `args` in a new window and returns the session driving it.
    pub fn launch(&self, app: &Path, args: &[String]) -> Session {
        let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(120)).build().expect("client");
        let base = format!("http://127.0.0.1:{}", self.port);
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "wry",
            "tauri:options": { "application": app, "args": args },
        }}});
        // tauri-driver sometimes drops the first connection while WebKitWebDriver starts: retry.
        let mut attempt = 0;
        let answer: Value = loop {
            attempt += 1;
            match http.post(format!("{base}/session")).json(&caps).send().and_then(|r| r.json()) {
                Ok(answer) => break answer,
                Err(e) if attempt < 3 && !e.is_timeout() => std::thread::sleep(Duration::from_secs(1)),
                Err(e) => panic!("new session: {e}"),
            }
        };
        let id = answer["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {answer}")).to_owned();
        Session { http, url: format!("{base}/session/{id}") }
    }
}

impl Display {
    /// Saves a PNG of the whole display (the app's window fills it) to `path`, taken by the X
    /// server rather than WebKitWebDriver, whose screenshot hangs on some dialogs under Xvfb.
    pub fn screenshot(&self, path: &Path) {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("screenshot dir");
        }
        // Let the last change paint before the picture is taken.
        std::thread::sleep(Duration::from_millis(300));
        let status = Command::new("import")
            .args(["-display", &format!(":{}", self.number), "-window", "root"])
            .arg(path)
            .status()
            .expect("run ImageMagick's import (the test command installs it)");
        assert!(status.success(), "screenshot of display :{} failed", self.number);
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        for child in [&mut self.driver, &mut self.xvfb] {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(format!("/tmp/.pos-e2e-display-{}", self.number));
    }
}

/// One WebDriver session: one running app window. Closing the session closes the app.
#[derive(Debug)]
pub struct Session {
    http: reqwest::blocking::Client,
    url: String,
}

/// An element of the page, by its WebDriver reference.
#[derive(Debug, Clone)]
pub struct Element(String);

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

impl Session {
    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value, Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().expect("webdriver request");
        let ok = response.status().is_success();
        let value: Value = response.json().expect("webdriver json");
        if ok {
            Ok(value["value"].clone())
        } else {
            Err(value["value"].clone())
        }
    }

    fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }

    fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// The first element matching `css`, if there is one now.
    pub fn try_find(&self, css: &str) -> Option<Element> {
        let found =
            self.call(reqwest::Method::POST, "/element", Some(json!({ "using": "css selector", "value": css })));
        found.ok().and_then(|v| v[ELEMENT_KEY].as_str().map(|id| Element(id.to_owned())))
    }

    /// Waits up to `timeout` for an element matching `css`.
    pub fn find(&self, css: &str, timeout: Duration) -> Element {
        let mut found = None;
        wait_for(css, timeout, || {
            found = self.try_find(css);
            found.is_some()
        });
        found.expect("found")
    }

    /// Waits until `check` holds, re-evaluating it every 50 ms.
    pub fn wait_until(&self, what: &str, timeout: Duration, check: impl FnMut() -> bool) {
        wait_for(what, timeout, check)
    }

    pub fn click(&self, e: &Element) {
        self.post(&format!("/element/{}/click", e.0), json!({}));
    }

    pub fn type_into(&self, e: &Element, text: &str) {
        self.post(&format!("/element/{}/value", e.0), json!({ "text": text }));
    }

    /// Replaces what a field holds the way a person does: select all, delete, type.
    pub fn replace_text(&self, e: &Element, text: &str) {
        // Two sends: in one, WebKitWebDriver drops the text typed after the released modifier.
        self.type_into(e, &format!("{}a{}{}", keys::CONTROL, keys::NULL, keys::BACKSPACE));
        self.type_into(e, text);
    }

    pub fn text(&self, e: &Element) -> String {
        self.get(&format!("/element/{}/text", e.0)).as_str().unwrap_or_default().to_owned()
    }

    /// The text of the first element matching `css`, or "" when there is none.
    pub fn text_of(&self, css: &str) -> String {
        self.try_find(css).map(|e| self.text(&e)).unwrap_or_default()
    }

    pub fn attribute(&self, e: &Element, name: &str) -> Option<String> {
        self.get(&format!("/element/{}/attribute/{name}", e.0)).as_str().map(str::to_owned)
    }

    /// Runs `script` in the page; `arguments` are its arguments.
    pub fn execute(&self, script: &str, arguments: Value) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": arguments }))
    }

    /// Calls one of the app's commands through the page's IPC and returns its answer.
    pub fn invoke(&self, command: &str, args: Value) -> Value {
        self.try_invoke(command, args).unwrap_or_else(|e| panic!("{command} failed: {e}"))
    }

    /// Calls one of the app's commands; its error (the app's tagged JSON) as `Err`.
    pub fn try_invoke(&self, command: &str, args: Value) -> Result<Value, Value> {
        let script = "const done = arguments[arguments.length - 1];\
            window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1])\
              .then(v => done({ ok: v }), e => done({ err: e }));";
        let answer = self.post("/execute/async", json!({ "script": script, "args": [command, args] }));
        match answer.get("ok") {
            Some(v) => Ok(v.clone()),
            None => Err(answer["err"].clone()),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.http.delete(&self.url).send();
    }
}
