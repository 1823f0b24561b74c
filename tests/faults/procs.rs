//! The fault test's child processes: `pos-terminal` runs (under libfaketime when a clock is off),
//! `psql`, the test's own PostgreSQL database and the `sync-server` processes, killed when dropped.

use pos_e2e::{binary, postgres_url};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A child process killed (SIGKILL) and reaped when dropped, whatever happened before.
pub(crate) struct ChildGuard(Option<Child>);

impl ChildGuard {
    pub(crate) fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("child")
    }
    pub(crate) fn kill(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// How one terminal command ended.
#[derive(Debug)]
pub(crate) struct Ran {
    /// The exit code; `None` when the test killed it (or it died of a signal).
    pub(crate) code: Option<i32>,
    /// Whether the test killed it while it ran.
    pub(crate) killed: bool,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Ran {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or(Value::Null)
    }
    /// The `kind` of the error the terminal printed (`busy`, `offline`, `server`, `invalid`, …).
    pub(crate) fn error_kind(&self) -> Option<String> {
        let line = self.stderr.lines().rev().find(|l| l.starts_with('{'))?;
        let v: Value = serde_json::from_str(line).ok()?;
        v["error"]["kind"].as_str().map(str::to_owned)
    }
}

/// libfaketime's preload library, as Debian's `faketime` package installs it.
pub(crate) fn libfaketime() -> PathBuf {
    let found = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("faketime/libfaketimeMT.so.1"))
        .chain([PathBuf::from("/usr/lib/faketime/libfaketimeMT.so.1")])
        .find(|p| p.exists());
    found.expect("libfaketime is missing: run scripts/setup.sh (Debian package faketime)")
}

/// One terminal: its own store directory, driven through the `pos-terminal` binary.
pub(crate) struct Term {
    pub(crate) name: String,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) db: PathBuf,
    /// libfaketime's `FAKETIME` for every process of this terminal (`+3d`), if its clock is off.
    pub(crate) clock: Option<String>,
    pub(crate) runs: AtomicU64,
}

impl Term {
    pub(crate) fn new(name: String, clock: Option<String>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("terminal.db");
        Self { name, dir, db, clock, runs: AtomicU64::new(0) }
    }

    pub(crate) fn spawn(&self, args: &[&str], clock: Option<&str>) -> (ChildGuard, PathBuf, PathBuf) {
        let n = self.runs.fetch_add(1, SeqCst);
        let (out, err) = (self.dir.path().join(format!("run-{n}.out")), self.dir.path().join(format!("run-{n}.err")));
        let mut cmd = Command::new(binary("pos-terminal"));
        cmd.arg("--db").arg(&self.db).args(args);
        if let Some(offset) = clock.or(self.clock.as_deref()) {
            // The preload library itself rather than the `faketime` wrapper, which forks: a kill
            // must reach the terminal process, not the wrapper.
            cmd.env("LD_PRELOAD", libfaketime()).env("FAKETIME", offset);
        }
        cmd.stdin(Stdio::null())
            .stdout(std::fs::File::create(&out).expect("stdout file"))
            .stderr(std::fs::File::create(&err).expect("stderr file"));
        (ChildGuard(Some(cmd.spawn().expect("start pos-terminal"))), out, err)
    }

    /// Runs a command, killing it at `kill_after` if it still runs then (killed: true), or at
    /// `timeout` (a hang: reported by the caller as such).
    pub(crate) fn run_until(
        &self,
        args: &[&str],
        clock: Option<&str>,
        kill_after: Option<Duration>,
        timeout: Duration,
    ) -> Ran {
        let (mut guard, out, err) = self.spawn(args, clock);
        let start = Instant::now();
        let deadline = kill_after.unwrap_or(timeout).min(timeout);
        let mut killed = false;
        let status = loop {
            if let Some(status) = guard.child().try_wait().expect("wait for pos-terminal") {
                break Some(status);
            }
            if start.elapsed() >= deadline {
                killed = kill_after.is_some_and(|k| k <= timeout);
                guard.kill();
                break None;
            }
            thread::sleep(Duration::from_millis(5));
        };
        let read = |p: &Path| {
            let s = std::fs::read_to_string(p).unwrap_or_default();
            let _ = std::fs::remove_file(p);
            s
        };
        let timed_out = status.is_none() && !killed;
        let stderr = read(&err);
        Ran {
            code: status.and_then(|s| s.code()),
            killed,
            stdout: read(&out),
            stderr: if timed_out { format!("timed out after {timeout:?}\n{stderr}") } else { stderr },
        }
    }

    pub(crate) fn run(&self, args: &[&str], timeout: Duration) -> Ran {
        self.run_until(args, None, None, timeout)
    }
}

// --- PostgreSQL --------------------------------------------------------------------------------

pub(crate) fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .output()
        .expect("run psql (postgresql-client, installed by scripts/setup.sh)");
    assert!(out.status.success(), "psql {sql:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("psql prints UTF-8")
}

/// A database of this test's own on the machine's PostgreSQL, dropped at the end.
pub(crate) struct TestDb {
    pub(crate) admin_url: String,
    pub(crate) name: String,
    pub(crate) url: String,
}

impl TestDb {
    pub(crate) fn create() -> Self {
        let base = postgres_url();
        let (prefix, query) = match base.split_once('?') {
            Some((p, q)) => (p.to_owned(), format!("?{q}")),
            None => (base.clone(), String::new()),
        };
        let (server, _) = prefix.rsplit_once('/').expect("database URL names a database");
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_nanos();
        let name = format!("faults_{}_{}", std::process::id(), nanos % 1_000_000_000);
        psql(&base, &format!("CREATE DATABASE {name}"));
        Self { admin_url: base, url: format!("{server}/{name}{query}"), name }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                "-X",
                "-q",
                "-d",
                &self.admin_url,
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}

// --- Servers ---------------------------------------------------------------------------------

/// One `sync-server serve` process on a fixed loopback address, restartable on the same port.
pub(crate) struct ServerProc {
    pub(crate) child: ChildGuard,
    pub(crate) addr: SocketAddr,
    pub(crate) database_url: String,
    pub(crate) log: PathBuf,
}

impl ServerProc {
    pub(crate) fn start(database_url: &str, bind: &str, log: PathBuf) -> Self {
        let (child, addr) = Self::spawn(database_url, bind, &log);
        Self { child, addr, database_url: database_url.to_owned(), log }
    }

    pub(crate) fn spawn(database_url: &str, bind: &str, log: &Path) -> (ChildGuard, SocketAddr) {
        for attempt in 0..20 {
            let logfile = std::fs::OpenOptions::new().create(true).append(true).open(log).expect("server log");
            let mut guard = ChildGuard(Some(
                Command::new(binary("sync-server"))
                    .args(["--database-url", database_url, "serve", "--bind", bind])
                    .env("RUST_LOG", "warn")
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(logfile)
                    .spawn()
                    .expect("start sync-server"),
            ));
            let stdout = guard.child().stdout.take().expect("server stdout");
            let (tx, rx) = mpsc::channel();
            thread::spawn(move || {
                let mut reader = BufReader::new(stdout);
                let mut line = String::new();
                let _ = reader.read_line(&mut line);
                let _ = tx.send(line);
                // Keep reading so the server never writes into a closed pipe.
                let _ = std::io::copy(&mut reader, &mut std::io::sink());
            });
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) if line.contains("http://") => {
                    let url = line.trim().rsplit(' ').next().expect("address").to_owned();
                    let addr = url.trim_start_matches("http://").trim_end_matches('/').parse().expect("server address");
                    return (guard, addr);
                }
                // It exited without announcing (the port not free yet after a kill): try again.
                _ => {
                    guard.kill();
                    assert!(attempt < 19, "sync-server did not start on {bind}; see {}", log.display());
                    thread::sleep(Duration::from_millis(250));
                }
            }
        }
        unreachable!()
    }

    /// `kill -9`.
    pub(crate) fn kill(&mut self) {
        self.child.kill();
    }

    pub(crate) fn restart(&mut self) {
        self.kill();
        let (child, addr) = Self::spawn(&self.database_url, &self.addr.to_string(), &self.log);
        assert_eq!(addr, self.addr, "restarted on the same port");
        self.child = child;
    }

    pub(crate) fn is_running(&mut self) -> bool {
        self.child.0.as_mut().is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }
}
