//! Shared helpers for the end-to-end tests: locating the workspace's binaries (building them
//! when missing) and running them on a throw-away store.

pub mod app;
pub mod webdriver;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;

/// The target directory the test binary itself was built into (`target/debug`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/debug/deps/<test> → target/debug
    exe.parent().and_then(|deps| deps.parent()).expect("target dir").to_path_buf()
}

/// Path to a workspace binary, built once per test run if it is not there yet.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let path = target_dir().join(name);
    BUILT.get_or_init(|| {
        // Build with the profile these tests were built with, into the same target directory.
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "--quiet", "--bins", "--workspace"]);
        if !cfg!(debug_assertions) {
            build.arg("--release");
        }
        let status = build.current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).status().expect("run cargo build");
        assert!(status.success(), "cargo build --bins failed");
    });
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// A terminal store in a temporary directory, driven through the `pos-terminal` binary.
#[derive(Debug)]
pub struct Terminal {
    _dir: tempfile::TempDir,
    pub db: PathBuf,
}

/// What one command printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: serde_json::Value,
    pub stderr: serde_json::Value,
}

impl Terminal {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("terminal.db");
        Self { _dir: dir, db }
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let Output { status, stdout, stderr } = Command::new(binary("pos-terminal"))
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .output()
            .expect("run pos-terminal");
        let parse = |bytes: &[u8]| {
            serde_json::from_slice(bytes)
                .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned()))
        };
        Run { code: status.code().unwrap_or(-1), stdout: parse(&stdout), stderr: parse(&stderr) }
    }

    /// Starts a command without waiting for it.
    pub fn spawn(&self, args: &[&str]) -> Child {
        Command::new(binary("pos-terminal"))
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start pos-terminal")
    }

    /// Runs a command that must succeed and returns its JSON output.
    pub fn ok(&self, args: &[&str]) -> serde_json::Value {
        let run = self.run(args);
        assert_eq!(run.code, 0, "pos-terminal {args:?} failed: {:?}", run.stderr);
        run.stdout
    }
}

impl Default for Terminal {
    fn default() -> Self {
        Self::new()
    }
}

/// A real `sync-server` process on a loopback port.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub url: String,
    pub database_url: String,
    _dir: Option<tempfile::TempDir>,
}

/// The machine's PostgreSQL for tests (`TEST_DATABASE_URL`).
pub fn postgres_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

impl Server {
    /// A server on a fresh embedded SQLite database.
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("server.db").display());
        let mut server = Self::start(&url);
        server._dir = Some(dir);
        server
    }

    /// A server on `database_url`, listening on a free loopback port.
    pub fn start(database_url: &str) -> Self {
        Self::start_on(database_url, "127.0.0.1:0")
    }

    fn start_on(database_url: &str, bind: &str) -> Self {
        let mut child = Command::new(binary("sync-server"))
            .args(["--database-url", database_url, "serve", "--bind", bind])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start sync-server");
        let stdout = child.stdout.take().expect("server stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("server announces its address");
        let url = line.trim().rsplit(' ').next().expect("address").to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "unexpected announcement {line:?}");
        Self { child, url, database_url: database_url.to_owned(), _dir: None }
    }

    /// Runs `sync-server admin …` against this server's database.
    pub fn admin(&self, args: &[&str]) -> serde_json::Value {
        admin(&self.database_url, args)
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same address and database (after [`Server::stop`]).
    pub fn restart(&mut self) {
        self.stop();
        let bind = self.url.trim_start_matches("http://").to_owned();
        let mut again = Self::start_on(&self.database_url, &bind);
        // The new process takes over; the stopped one left behind is reaped by `again`'s drop.
        std::mem::swap(&mut self.child, &mut again.child);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs `sync-server admin …` against `database_url`.
pub fn admin(database_url: &str, args: &[&str]) -> serde_json::Value {
    let out = Command::new(binary("sync-server"))
        .args(["--database-url", database_url, "admin"])
        .args(args)
        .output()
        .expect("run sync-server admin");
    assert!(out.status.success(), "admin {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("admin prints JSON")
}

/// A new organisation on `database_url` and a one-time registration code per terminal.
pub fn organisation_with_codes(database_url: &str, terminals: usize) -> (String, Vec<String>) {
    let org = admin(database_url, &["create-org", "--name", &format!("org-{}", uuid::Uuid::now_v7())])
        ["organization_id"]
        .as_str()
        .expect("org id")
        .to_owned();
    let codes = (0..terminals)
        .map(|_| admin(database_url, &["issue-code", "--org", &org])["code"].as_str().expect("code").to_owned())
        .collect();
    (org, codes)
}
