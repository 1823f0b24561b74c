//! The process-level fault test of issue 18: real `pos-terminal` and `sync-server` binaries on
//! real files and a real PostgreSQL, loopback only, bounded in time.
//!
//! At least 30 terminals (each its own store, registered with its own one-time code) sync
//! through a TCP proxy written here into two `sync-server serve` instances that share one
//! PostgreSQL database (a database of its own, created and dropped by the test). The terminals
//! import overlapping customers — the same people in different written forms and with different
//! subsets of keys — add a few and sell to a few. Meanwhile:
//! - a server is killed (`SIGKILL`) while a push is in flight, repeatedly, and restarted on the
//!   same port;
//! - a terminal's `pos-terminal sync` is killed part-way, repeatedly;
//! - the proxy cuts about a fifth of the connections at a random byte offset of the first
//!   request or answer, in either direction;
//! - one terminal stays offline for a simulated week (10,000 captures, imported day by day under
//!   libfaketime with the day's clock), then syncs;
//! - one terminal runs every process with its clock three days ahead (libfaketime).
//!
//! Then the faults stop, every terminal syncs until its outbox is empty and two rounds more, and
//! the test checks DESIGN.md's invariants against the server's own rows (read from PostgreSQL,
//! never through a fresh bootstrap): every outbox empty and nothing rejected (I2), every
//! terminal's customers — tombstones included, every field and field clock — equal to the
//! server's (I3), every sale on the server exactly once and on every terminal, no two live
//! customers sharing a key (I1), every store passing `PRAGMA integrity_check`, and no sync of
//! the healing phase answered "busy" (no other uploader runs then: a busy answer is a lease left
//! by a killed process, issue 18 finding 4).
//!
//! `FAULTS_SCALE` (default 1) multiplies terminals, captures, the offline week and the fault
//! phase for a soak (`make soak`); `FAULTS_SEED` picks the generated data and fault choices.

use pos_e2e::{admin, binary, organisation_with_codes, postgres_url};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use uuid::Uuid;

// --- Scale ---------------------------------------------------------------------------------------

/// How big a run is. `FAULTS_SCALE=1` fits `make test` on a 2-core machine in a debug build.
#[derive(Debug, Clone)]
struct Scale {
    /// Terminals that import, capture, sell and sync under faults (the clock-off one included).
    terminals: usize,
    /// Distinct people the terminals' captures are drawn from.
    people: usize,
    /// Imported rows per terminal.
    captures: usize,
    /// Captures of the terminal that is offline for a simulated week.
    week: usize,
    /// How long faults are injected.
    chaos: Duration,
    /// How long healing may take, at most (more than the two minutes a stale uploader lease
    /// lasts today, so the other checks still run on complete data).
    heal: Duration,
    /// Terminal syncs run at once during the fault phase.
    workers: usize,
}

fn scale() -> Scale {
    let f: f64 = std::env::var("FAULTS_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0_f64).max(0.05);
    let terminals = ((30.0 * f).round() as usize).max(3);
    Scale {
        terminals,
        people: terminals * 12,
        captures: (40.0 * f).round() as usize,
        week: (10_000.0 * f).round() as usize,
        chaos: Duration::from_secs_f64(40.0 * f),
        heal: Duration::from_secs_f64(150.0 + 60.0 * (f - 1.0).max(0.0)),
        workers: 3,
    }
}

// --- Randomness ----------------------------------------------------------------------------------

/// SplitMix64: small, seeded, good enough to pick faults and data.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.below(hi - lo + 1))
    }
}

// --- The people and their written forms ------------------------------------------------------------

const FIRST: [&str; 12] =
    ["José", "María", "Ángel", "Andrés", "Lucía", "Inés", "Ramón", "Sofía", "Jesús", "Begoña", "Nicolás", "Verónica"];
const SURNAME: [&str; 12] = [
    "Pérez",
    "Rodríguez",
    "González",
    "Hernández",
    "Gómez",
    "Díaz",
    "Martínez",
    "Sánchez",
    "Ramírez",
    "Núñez",
    "Peña",
    "Briceño",
];
const CITIES: [&str; 6] = ["Caracas", "Maracaibo", "Valencia", "Barquisimeto", "Mérida", "Puerto La Cruz"];
const PREFIXES: [&str; 5] = ["412", "414", "416", "424", "426"];

fn fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'á' | 'Á' => 'a',
            'é' | 'É' => 'e',
            'í' | 'Í' => 'i',
            'ó' | 'Ó' => 'o',
            'ú' | 'Ú' => 'u',
            'ñ' | 'Ñ' => 'n',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// One real person, known by every key.
#[derive(Debug, Clone)]
struct Person {
    first: &'static str,
    surname: &'static str,
    prefix: &'static str,
    line: u32,
    cedula: u32,
    email: String,
    passport: Option<String>,
}

fn person(k: u32) -> Person {
    let first = FIRST[k as usize % FIRST.len()];
    let surname = SURNAME[(k as usize / FIRST.len()) % SURNAME.len()];
    Person {
        first,
        surname,
        prefix: PREFIXES[k as usize % PREFIXES.len()],
        line: 1_000_000 + k,
        cedula: 10_000_000 + k,
        email: format!("{}.{}{k}@correo.com", fold(first), fold(surname)),
        passport: k.is_multiple_of(3).then(|| format!("AB{:06}", k % 1_000_000)),
    }
}

/// `12345678` → `12.345.678`.
fn dotted(n: u32) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(c);
    }
    out
}

impl Person {
    fn phone(&self, rng: &mut Rng) -> String {
        let (p, l) = (self.prefix, self.line.to_string());
        match rng.below(5) {
            0 => format!("0{p}-{}.{}.{}", &l[..3], &l[3..5], &l[5..]),
            1 => format!("+58 {p} {l}"),
            2 => format!("0{p}{l}"),
            3 => format!("(0{p}) {} {} {}", &l[..3], &l[3..5], &l[5..]),
            _ => format!("58 {p}-{}-{}", &l[..3], &l[3..]),
        }
    }
    fn identification(&self, rng: &mut Rng) -> String {
        match rng.below(4) {
            0 => format!("V-{}", dotted(self.cedula)),
            1 => format!("v{}", self.cedula),
            2 => format!("V {}", self.cedula),
            _ => dotted(self.cedula),
        }
    }
    fn email(&self, rng: &mut Rng) -> String {
        match rng.below(3) {
            0 => self.email.clone(),
            1 => {
                let (local, domain) = self.email.split_once('@').expect("email");
                let mut c = local.chars();
                let head: String = c.next().into_iter().flat_map(char::to_uppercase).collect();
                format!("{head}{}@{}", c.as_str(), domain.replace("correo", "Correo").replace(".com", ".COM"))
            }
            _ => self.email.to_uppercase(),
        }
    }
    fn passport(&self, rng: &mut Rng) -> Option<String> {
        let p = self.passport.as_ref()?;
        Some(match rng.below(3) {
            0 => format!("{} {}", p[..2].to_lowercase(), &p[2..]),
            1 => format!("{}-{}", &p[..2], &p[2..]),
            _ => p.clone(),
        })
    }
    fn names(&self, rng: &mut Rng) -> (String, String) {
        match rng.below(3) {
            0 => (self.first.to_owned(), self.surname.to_owned()),
            1 => (fold(self.first), fold(self.surname)),
            _ => (self.first.to_uppercase(), self.surname.to_uppercase()),
        }
    }

    /// One capture of this person: a random subset of keys (a phone or an email always: the
    /// terminal requires one), each in a random written form, and some other fields.
    fn capture(&self, rng: &mut Rng, who: &str) -> Capture {
        let (first, surname) = self.names(rng);
        let mut phone = rng.chance(0.7).then(|| self.phone(rng));
        let email = rng.chance(0.5).then(|| self.email(rng));
        if phone.is_none() && email.is_none() {
            phone = Some(self.phone(rng));
        }
        Capture {
            first,
            surname,
            phone,
            email,
            identification: rng.chance(0.5).then(|| self.identification(rng)),
            passport: if rng.chance(0.4) { self.passport(rng) } else { None },
            city: rng.chance(0.5).then(|| rng.pick(&CITIES).to_string()),
            address: rng.chance(0.2).then(|| format!("Av. {}, casa {}", rng.pick(&SURNAME), rng.below(90) + 1)),
            notes: rng.chance(0.3).then(|| format!("capturado en {who}")),
        }
    }
}

#[derive(Debug, Clone)]
struct Capture {
    first: String,
    surname: String,
    phone: Option<String>,
    email: Option<String>,
    identification: Option<String>,
    passport: Option<String>,
    city: Option<String>,
    address: Option<String>,
    notes: Option<String>,
}

const CSV_HEADER: &str = "first_name,surname,phone,email,identification,passport_number,city,address,notes\n";

fn csv_field(s: Option<&str>) -> String {
    s.map(|s| format!("\"{}\"", s.replace('"', "\"\""))).unwrap_or_default()
}

impl Capture {
    fn csv_row(&self) -> String {
        let fields = [
            Some(self.first.as_str()),
            Some(self.surname.as_str()),
            self.phone.as_deref(),
            self.email.as_deref(),
            self.identification.as_deref(),
            self.passport.as_deref(),
            self.city.as_deref(),
            self.address.as_deref(),
            self.notes.as_deref(),
        ];
        let mut row = fields.map(csv_field).join(",");
        row.push('\n');
        row
    }

    /// The same capture as command-line flags (`add`, `sale`).
    fn flags(&self) -> Vec<String> {
        let mut flags = vec!["--name".into(), self.first.clone(), "--surname".into(), self.surname.clone()];
        let optional = [
            ("--phone", &self.phone),
            ("--email", &self.email),
            ("--identification", &self.identification),
            ("--passport", &self.passport),
            ("--city", &self.city),
            ("--address", &self.address),
            ("--notes", &self.notes),
        ];
        for (flag, value) in optional {
            if let Some(v) = value {
                flags.push(flag.into());
                flags.push(v.clone());
            }
        }
        flags
    }
}

fn write_csv(path: &Path, rows: &[Capture]) {
    let mut text = String::from(CSV_HEADER);
    for row in rows {
        text.push_str(&row.csv_row());
    }
    std::fs::write(path, text).expect("write CSV");
}

// --- Child processes -------------------------------------------------------------------------------

/// A child process killed (SIGKILL) and reaped when dropped, whatever happened before.
struct ChildGuard(Option<Child>);

impl ChildGuard {
    fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("child")
    }
    fn kill(&mut self) {
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
struct Ran {
    /// The exit code; `None` when the test killed it (or it died of a signal).
    code: Option<i32>,
    /// Whether the test killed it while it ran.
    killed: bool,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or(Value::Null)
    }
    /// The `kind` of the error the terminal printed (`busy`, `offline`, `server`, `invalid`, …).
    fn error_kind(&self) -> Option<String> {
        let line = self.stderr.lines().rev().find(|l| l.starts_with('{'))?;
        let v: Value = serde_json::from_str(line).ok()?;
        v["error"]["kind"].as_str().map(str::to_owned)
    }
}

/// libfaketime's preload library, as Debian's `faketime` package installs it.
fn libfaketime() -> PathBuf {
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
struct Term {
    name: String,
    dir: tempfile::TempDir,
    db: PathBuf,
    /// libfaketime's `FAKETIME` for every process of this terminal (`+3d`), if its clock is off.
    clock: Option<String>,
    runs: AtomicU64,
}

impl Term {
    fn new(name: String, clock: Option<String>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = dir.path().join("terminal.db");
        Self { name, dir, db, clock, runs: AtomicU64::new(0) }
    }

    fn spawn(&self, args: &[&str], clock: Option<&str>) -> (ChildGuard, PathBuf, PathBuf) {
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
    fn run_until(&self, args: &[&str], clock: Option<&str>, kill_after: Option<Duration>, timeout: Duration) -> Ran {
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

    fn run(&self, args: &[&str], timeout: Duration) -> Ran {
        self.run_until(args, None, None, timeout)
    }
}

// --- PostgreSQL --------------------------------------------------------------------------------

fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args(["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .output()
        .expect("run psql (postgresql-client, installed by scripts/setup.sh)");
    assert!(out.status.success(), "psql {sql:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("psql prints UTF-8")
}

/// A database of this test's own on the machine's PostgreSQL, dropped at the end.
struct TestDb {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDb {
    fn create() -> Self {
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
struct ServerProc {
    child: ChildGuard,
    addr: SocketAddr,
    database_url: String,
    log: PathBuf,
}

impl ServerProc {
    fn start(database_url: &str, bind: &str, log: PathBuf) -> Self {
        let (child, addr) = Self::spawn(database_url, bind, &log);
        Self { child, addr, database_url: database_url.to_owned(), log }
    }

    fn spawn(database_url: &str, bind: &str, log: &Path) -> (ChildGuard, SocketAddr) {
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
    fn kill(&mut self) {
        self.child.kill();
    }

    fn restart(&mut self) {
        self.kill();
        let (child, addr) = Self::spawn(&self.database_url, &self.addr.to_string(), &self.log);
        assert_eq!(addr, self.addr, "restarted on the same port");
        self.child = child;
    }

    fn is_running(&mut self) -> bool {
        self.child.0.as_mut().is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }
}

// --- The proxy ---------------------------------------------------------------------------------

/// What the proxy did, shared with its connection threads.
struct ProxyState {
    backends: Vec<SocketAddr>,
    cutting: AtomicBool,
    stop: AtomicBool,
    next: AtomicUsize,
    seed: AtomicU64,
    connections: AtomicU64,
    /// Connections the proxy meant to cut, and those it did (the cut came before the end).
    planned: AtomicU64,
    cut_up: AtomicU64,
    cut_down: AtomicU64,
    refused: AtomicU64,
    /// Per backend: pushes whose request went through and whose answer has not started.
    pushes_in_flight: Vec<AtomicI64>,
}

/// A TCP proxy between the terminals and the servers, spreading connections over the servers
/// in turn (as a load balancer would, trying the other when one refuses) and, while cutting,
/// cutting about a fifth of them at a random byte offset of the first request or answer.
struct Proxy {
    addr: SocketAddr,
    state: Arc<ProxyState>,
    accept: Option<thread::JoinHandle<()>>,
}

impl Proxy {
    fn start(backends: Vec<SocketAddr>, seed: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy listens");
        let addr = listener.local_addr().expect("proxy address");
        listener.set_nonblocking(true).expect("non-blocking accept");
        let state = Arc::new(ProxyState {
            pushes_in_flight: backends.iter().map(|_| AtomicI64::new(0)).collect(),
            backends,
            cutting: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            next: AtomicUsize::new(0),
            seed: AtomicU64::new(seed),
            connections: AtomicU64::new(0),
            planned: AtomicU64::new(0),
            cut_up: AtomicU64::new(0),
            cut_down: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        });
        let shared = state.clone();
        let accept = thread::spawn(move || {
            while !shared.stop.load(SeqCst) {
                match listener.accept() {
                    Ok((client, _)) => {
                        let shared = shared.clone();
                        thread::spawn(move || handle_connection(&shared, client));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => thread::sleep(Duration::from_millis(2)),
                    Err(_) => thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        Self { addr, state, accept: Some(accept) }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.state.stop.store(true, SeqCst);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn handle_connection(state: &Arc<ProxyState>, client: TcpStream) {
    let _ = client.set_nonblocking(false);
    state.connections.fetch_add(1, SeqCst);
    let first = state.next.fetch_add(1, SeqCst);
    let mut backend = None;
    for k in 0..state.backends.len() {
        let b = (first + k) % state.backends.len();
        if let Ok(s) = TcpStream::connect_timeout(&state.backends[b], Duration::from_secs(2)) {
            backend = Some((b, s));
            break;
        }
    }
    let Some((b, server)) = backend else {
        state.refused.fetch_add(1, SeqCst);
        return;
    };
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    let mut rng = Rng::new(state.seed.fetch_add(0x5851_F42D_4C95_7F2D, SeqCst));
    // A fifth of the connections are cut, half of those in the request, half in the answer.
    let cut_request = (state.cutting.load(SeqCst) && rng.chance(0.2)).then(|| rng.chance(0.5));
    if cut_request.is_some() {
        state.planned.fetch_add(1, SeqCst);
    }
    let awaiting_push = Arc::new(AtomicBool::new(false));
    let (Ok(client2), Ok(server2)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let cut_up = cut_request.filter(|up| *up).map(|_| rng.next());
    let cut_down = cut_request.filter(|up| !*up).map(|_| rng.next());
    let up = {
        let (state, awaiting) = (state.clone(), awaiting_push.clone());
        thread::spawn(move || pump(&state, b, client, server, cut_up, true, &awaiting))
    };
    pump(state, b, server2, client2, cut_down, false, &awaiting_push);
    let _ = up.join();
    if awaiting_push.swap(false, SeqCst) {
        state.pushes_in_flight[b].fetch_sub(1, SeqCst);
    }
}

/// Where a message's header ends and how long the whole message is, once its header is in.
fn message_len(head: &[u8]) -> Option<usize> {
    let end = head.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let text = String::from_utf8_lossy(&head[..end]).to_ascii_lowercase();
    let length = text.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok());
    let body = match length {
        Some(n) => n,
        // Chunked: somewhere in the first few KiB after the header.
        None if text.contains("transfer-encoding:") => 4096,
        // Neither: no body (a GET).
        None => 0,
    };
    Some(end + body)
}

/// Copies `from` → `to` until either end closes. With a cut planned (`cut`: a random number),
/// the offset is drawn uniformly over the first message once its header is in, and at that
/// byte both sockets are shut down: the connection dies part-way through a request (up) or an
/// answer (down).
fn pump(
    state: &ProxyState,
    backend: usize,
    mut from: TcpStream,
    mut to: TcpStream,
    cut: Option<u64>,
    up: bool,
    awaiting_push: &AtomicBool,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut head: Vec<u8> = Vec::new();
    let mut offset: Option<usize> = None;
    let mut sent = 0usize;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &buf[..n];
        if up {
            if chunk.windows(22).any(|w| w == b"POST /api/v1/sync/push") && !awaiting_push.swap(true, SeqCst) {
                state.pushes_in_flight[backend].fetch_add(1, SeqCst);
            }
        } else if awaiting_push.swap(false, SeqCst) {
            state.pushes_in_flight[backend].fetch_sub(1, SeqCst);
        }
        if let (Some(r), None) = (cut, offset) {
            if head.len() < 16 * 1024 {
                head.extend_from_slice(&chunk[..n.min(16 * 1024)]);
            }
            if let Some(len) = message_len(&head) {
                // Uniform over what is still to come of the first message.
                let lo = sent;
                offset = Some(lo + (r % (len.saturating_sub(lo).max(1) as u64)) as usize);
            }
        }
        if let Some(at) = offset {
            if sent + n > at {
                let _ = to.write_all(&chunk[..at - sent]);
                let _ = to.flush();
                let counter = if up { &state.cut_up } else { &state.cut_down };
                counter.fetch_add(1, SeqCst);
                let _ = from.shutdown(Shutdown::Both);
                let _ = to.shutdown(Shutdown::Both);
                return;
            }
        }
        if to.write_all(chunk).is_err() {
            break;
        }
        sent += n;
    }
    // One side closed: pass the close on (the other direction ends by itself).
    let _ = to.shutdown(Shutdown::Write);
}

// --- Reading both sides ---------------------------------------------------------------------------

/// A customer as compared: every field of its JSON but the clocks, and each field's clock.
fn customer_fields(c: &pos_core::Customer) -> BTreeMap<String, Value> {
    let mut fields: BTreeMap<String, Value> = match serde_json::to_value(c).expect("customer serialises") {
        Value::Object(map) => map.into_iter().collect(),
        _ => unreachable!(),
    };
    fields.remove("clocks");
    for v in fields.values_mut() {
        if let Value::String(s) = v {
            *s = millis(s);
        }
    }
    for (field, clock) in &c.clocks {
        fields.insert(format!("clock of {field}"), Value::String(clock.to_string()));
    }
    fields
}

/// An RFC 3339 UTC timestamp cut to milliseconds, anything else as it is: the terminal's store
/// keeps times to the millisecond (migrations/terminal), the server's JSON to the nanosecond.
fn millis(s: &str) -> String {
    let b = s.as_bytes();
    let stamp = b.len() >= 20 && b[4] == b'-' && b[10] == b'T' && b[13] == b':' && s.ends_with('Z');
    if !stamp {
        return s.to_owned();
    }
    // A whole second is written without a fraction (`…:59Z`).
    let frac = if b[19] == b'.' { &s[20..s.len() - 1] } else { "" };
    let frac: String = frac.chars().chain("000".chars()).take(3).collect();
    format!("{}.{frac}Z", &s[..19])
}

#[test]
fn timestamps_compare_to_the_millisecond() {
    assert_eq!(millis("2026-12-08T01:35:59Z"), "2026-12-08T01:35:59.000Z");
    assert_eq!(millis("2026-12-08T01:35:59.5Z"), "2026-12-08T01:35:59.500Z");
    assert_eq!(millis("2026-12-08T00:49:58.713224810Z"), "2026-12-08T00:49:58.713Z");
    assert_eq!(millis("Caracas"), "Caracas");
}

/// A sale as compared: its JSON, times to the millisecond.
fn sale_value(sale: &pos_core::Sale) -> Value {
    let mut v = serde_json::to_value(sale).expect("sale serialises");
    if let Value::Object(map) = &mut v {
        for field in map.values_mut() {
            if let Value::String(s) = field {
                *s = millis(s);
            }
        }
    }
    v
}

/// The server's rows of `table` in the organisation, straight from PostgreSQL.
fn server_rows(url: &str, table: &str, org: &str) -> Vec<String> {
    psql(url, &format!("SELECT data FROM {table} WHERE organization_id = '{org}' ORDER BY id"))
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// What one terminal holds, read from its store file after every process of it has ended.
struct Local {
    device: Uuid,
    pending: u64,
    rejected: Vec<Value>,
    customers: BTreeMap<Uuid, pos_core::Customer>,
    sales: BTreeMap<Uuid, Value>,
    cursor: i64,
    integrity: String,
}

fn read_local(t: &Term) -> Local {
    let integrity = {
        let conn = rusqlite::Connection::open(&t.db).expect("open store for integrity_check");
        let rows: Vec<String> = conn
            .prepare("PRAGMA integrity_check")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .expect("integrity_check");
        rows.join("; ")
    };
    let store = pos_store::Store::open(&t.db).expect("open store");
    Local {
        device: store.identity().device_id,
        pending: store.pending_count().expect("pending count"),
        rejected: store
            .rejected_changes()
            .expect("rejected changes")
            .iter()
            .map(|e| serde_json::json!({ "change": e.change, "rejection": e.rejection }))
            .collect(),
        customers: store.all_customers().expect("customers").into_iter().map(|c| (c.id, c)).collect(),
        sales: store.all_sales().expect("sales").into_iter().map(|s| (s.id, sale_value(&s))).collect(),
        cursor: store.pull_cursor().expect("cursor"),
        integrity,
    }
}

/// How `local` differs from the server's customers: a summary line and the first few
/// differing customers, field by field.
fn customer_diff(
    local: &BTreeMap<Uuid, pos_core::Customer>,
    server: &BTreeMap<Uuid, pos_core::Customer>,
) -> Option<(usize, String)> {
    let missing: Vec<_> = server.keys().filter(|id| !local.contains_key(id)).collect();
    let extra: Vec<_> = local.keys().filter(|id| !server.contains_key(id)).collect();
    let mut differing = Vec::new();
    for (id, theirs) in server {
        let Some(ours) = local.get(id) else { continue };
        let (a, b) = (customer_fields(ours), customer_fields(theirs));
        let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        let diffs: Vec<String> = keys
            .into_iter()
            .filter(|k| a.get(*k) != b.get(*k))
            .map(|k| {
                let show = |m: &BTreeMap<String, Value>| m.get(k).map_or("(none)".to_owned(), Value::to_string);
                format!("      {k}: terminal {} / server {}", show(&a), show(&b))
            })
            .collect();
        if !diffs.is_empty() {
            differing.push((id, theirs.merged_into.is_some(), diffs));
        }
    }
    let total = missing.len() + extra.len() + differing.len();
    if total == 0 {
        return None;
    }
    let mut text = format!(
        "{} of {} server customers differ field by field, {} missing on the terminal, {} only on the terminal",
        differing.len(),
        server.len(),
        missing.len(),
        extra.len()
    );
    for (id, tombstone, diffs) in differing.iter().take(3) {
        let _ = write!(text, "\n    customer {id}{}:", if *tombstone { " (tombstone on the server)" } else { "" });
        for d in diffs {
            let _ = write!(text, "\n{d}");
        }
    }
    for id in missing.iter().take(3) {
        let _ = write!(
            text,
            "\n    missing on the terminal: {id} {:?}",
            server[*id].merged_into.map(|t| format!("merged into {t}"))
        );
    }
    for id in extra.iter().take(3) {
        let c = &local[*id];
        let _ = write!(
            text,
            "\n    only on the terminal: {id} {} {} phone {:?} merged_into {:?}",
            c.first_name, c.surname, c.phone, c.merged_into
        );
    }
    Some((total, text))
}

// --- The test ------------------------------------------------------------------------------------

/// Counts of what was done and injected.
#[derive(Default)]
struct Figures {
    captures: AtomicU64,
    refused_locally: AtomicU64,
    sales: AtomicU64,
    syncs: AtomicU64,
    sync_failures: AtomicU64,
    busy_in_chaos: AtomicU64,
    terminal_kills: AtomicU64,
    server_kills: AtomicU64,
    kill_attempts_without_push: AtomicU64,
}

/// Sales each terminal recorded (the command said so), by terminal index.
type SalesMade = Mutex<Vec<u64>>;

/// Terminals not in use by another worker.
struct Idle(Mutex<VecDeque<usize>>);

impl Idle {
    fn take(&self, rng: &mut Rng) -> Option<usize> {
        let mut q = self.0.lock().unwrap();
        if q.is_empty() {
            return None;
        }
        let i = rng.below(q.len() as u64) as usize;
        q.remove(i)
    }
    fn put(&self, t: usize) {
        self.0.lock().unwrap().push_back(t);
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

#[test]
fn thirty_terminals_through_faults_into_two_servers_on_postgres_converge_to_the_server() {
    let scale = scale();
    let seed: u64 = std::env::var("FAULTS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_nanos() as u64);
    eprintln!("faults: seed {seed} (FAULTS_SEED={seed} repeats the data and the choices), {scale:?}");
    let mut rng = Rng::new(seed);

    // libfaketime really shifts what a process sees.
    let shifted = Command::new("faketime")
        .args(["-f", "+3d", "date", "+%s"])
        .output()
        .expect("faketime is missing: run scripts/setup.sh (Debian package faketime)");
    let shifted: i64 = String::from_utf8_lossy(&shifted.stdout).trim().parse().expect("faketime date prints seconds");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs() as i64;
    assert!((shifted - now - 3 * 86_400).abs() < 60, "faketime +3d shows {shifted}, now is {now}");
    let building = Instant::now();
    let _ = binary("pos-terminal");
    let built_in = building.elapsed();
    let started = Instant::now();

    // PostgreSQL of our own; two servers on it.
    let db = TestDb::create();
    let logs = tempfile::tempdir().expect("log dir");
    let first = ServerProc::start(&db.url, "127.0.0.1:0", logs.path().join("server-0.log"));
    let second = ServerProc::start(&db.url, "127.0.0.1:0", logs.path().join("server-1.log"));
    let proxy = Proxy::start(vec![first.addr, second.addr], rng.next());
    let servers = [Mutex::new(first), Mutex::new(second)];
    let n = scale.terminals; // the clock-off terminal is the last of these
    let week_index = n; // and one more: the offline week
    let (org, codes) = organisation_with_codes(&db.url, n + 1);
    let mut terms: Vec<Term> = (0..n)
        .map(|i| {
            let clock = (i == n - 1).then(|| "+3d".to_owned());
            Term::new(format!("Caja {i}{}", if clock.is_some() { " (reloj +3 días)" } else { "" }), clock)
        })
        .collect();
    terms.push(Term::new("Caja semana".to_owned(), None));
    let terms = terms;

    // Register everyone through the proxy (not cutting yet).
    let register = |i: usize| {
        let t = &terms[i];
        let ran = t.run(
            &["register", "--server", &proxy.url(), "--code", &codes[i], "--name", &t.name],
            Duration::from_secs(60),
        );
        assert_eq!(ran.code, Some(0), "register {}: {}", t.name, ran.stderr);
    };
    parallel(terms.len(), 4, register);
    let setup_done = started.elapsed();

    // Captures: each terminal imports its share of the people, in its own written forms.
    let people: Vec<Person> = (0..scale.people as u32).map(person).collect();
    let figures = Figures::default();
    let imports: Vec<(PathBuf, usize)> = (0..n)
        .map(|i| {
            let rows: Vec<Capture> =
                (0..scale.captures).map(|_| rng.pick(&people).capture(&mut rng, &terms[i].name)).collect();
            let path = terms[i].dir.path().join("captures.csv");
            write_csv(&path, &rows);
            (path, rows.len())
        })
        .collect();
    // The offline week: captures for seven days, each day's imported with that day's clock.
    let week_rows: Vec<Vec<Capture>> = {
        let per_day = scale.week.div_ceil(7);
        let mut left = scale.week;
        (0..7)
            .map(|day| {
                let count = per_day.min(left);
                left -= count;
                (0..count)
                    .map(|j| {
                        // Most are people only this terminal sees; some are everyone's.
                        let someone = if rng.chance(0.15) {
                            rng.pick(&people).clone()
                        } else {
                            person(2_000_000 + (day * per_day + j) as u32)
                        };
                        someone.capture(&mut rng, "Caja semana")
                    })
                    .collect()
            })
            .collect()
    };

    let sales_made: SalesMade = Mutex::new(vec![0; terms.len()]);
    let idle = Idle(Mutex::new((0..n).collect()));
    let (week_synced, week_tried) = (AtomicBool::new(false), AtomicBool::new(false));
    // What failed other than transiently under faults (a sync exiting 1, a local capture refused
    // for anything but a duplicate key): reported with the invariants.
    let chaos_errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let chaos_start: OnceLock<Instant> = OnceLock::new();
    let ((week_imported, week_first_created), chaos_started) = thread::scope(|s| {
        // The offline week, imported while the others import and sync, then its first syncs
        // (under the same faults).
        let week = s.spawn(|| {
            let t = &terms[week_index];
            let mut imported = 0u64;
            for (day, rows) in week_rows.iter().enumerate() {
                let path = t.dir.path().join(format!("day-{day}.csv"));
                write_csv(&path, rows);
                let clock = format!("-{}d", 6 - day);
                let ran =
                    t.run_until(&["import", path.to_str().unwrap()], Some(&clock), None, Duration::from_secs(600));
                assert_eq!(ran.code, Some(0), "import of day {day} on the week terminal: {}", ran.stderr);
                let report = ran.json();
                assert_eq!(report["rejected"].as_array().map(Vec::len), Some(0), "{report}");
                imported += rows.len() as u64;
            }
            let first_created = {
                let store = pos_store::Store::open(&t.db).expect("open week store");
                let entry = store.pending_changes(1).expect("outbox").into_iter().next().expect("pending");
                entry.created_at.timestamp()
            };
            let waiting = Instant::now();
            let start = loop {
                if let Some(start) = chaos_start.get() {
                    break *start;
                }
                assert!(waiting.elapsed() < Duration::from_secs(600), "the fault phase never started");
                thread::sleep(Duration::from_millis(50));
            };
            // At least one try under faults, however long the import took.
            loop {
                let ran = t.run(&["sync"], Duration::from_secs(300));
                week_tried.store(true, SeqCst);
                if ran.code == Some(0) && ran.json()["pending"] == 0 {
                    week_synced.store(true, SeqCst);
                    break;
                }
                if faults_over(start, scale.chaos, &week_tried) {
                    break;
                }
                thread::sleep(Duration::from_millis(500));
            }
            (imported, first_created)
        });
        // Should anything below panic, the week's thread still stops waiting for the fault phase.
        let _start_anyway = StartOnDrop(&chaos_start);
        parallel(n, 3, |i| {
            let ran = terms[i].run(&["import", imports[i].0.to_str().unwrap()], Duration::from_secs(300));
            assert_eq!(ran.code, Some(0), "import on {}: {}", terms[i].name, ran.stderr);
            let report = ran.json();
            assert_eq!(report["rejected"].as_array().map(Vec::len), Some(0), "every generated row is valid: {report}");
            figures.captures.fetch_add(imports[i].1 as u64, SeqCst);
        });
        // The clock-off terminal's changes carry its clock.
        {
            let store = pos_store::Store::open(&terms[n - 1].db).expect("open clock-off store");
            let entry = store.pending_changes(1).expect("outbox").into_iter().next().expect("a pending change");
            let ahead = entry.created_at.timestamp() - now;
            assert!((2 * 86_400..4 * 86_400).contains(&ahead), "the +3d terminal's outbox is {ahead} s ahead");
        }
        proxy.state.cutting.store(true, SeqCst);
        let chaos_started = *chaos_start.get_or_init(Instant::now);
        let (chaos, week_tried) = (scale.chaos, &week_tried);
        let over = move || faults_over(chaos_started, chaos, week_tried);
        // Syncing terminals, some killed part-way, some capturing and selling between rounds.
        for w in 0..scale.workers {
            let mut rng = Rng::new(seed ^ ((w as u64 + 1) * 0x1000_0000_0001));
            let (terms, idle, figures, sales_made, people, errors) =
                (&terms, &idle, &figures, &sales_made, &people, &chaos_errors);
            s.spawn(move || {
                while !over() {
                    let Some(i) = idle.take(&mut rng) else {
                        thread::sleep(Duration::from_millis(20));
                        continue;
                    };
                    let t = &terms[i];
                    if rng.chance(0.2) {
                        let c = rng.pick(people).capture(&mut rng, &t.name);
                        let flags = c.flags();
                        let args: Vec<&str> = std::iter::once("add").chain(flags.iter().map(String::as_str)).collect();
                        let ran = t.run(&args, Duration::from_secs(60));
                        match (ran.code, ran.error_kind().as_deref()) {
                            (Some(0), _) => {
                                figures.captures.fetch_add(1, SeqCst);
                            }
                            // A manual capture refuses a key this terminal already holds.
                            (Some(2), Some("duplicate")) => {
                                figures.refused_locally.fetch_add(1, SeqCst);
                            }
                            _ => errors.lock().unwrap().push(format!("add on {}: {}", t.name, ran.stderr.trim())),
                        }
                    }
                    if rng.chance(0.15) {
                        let c = rng.pick(people).capture(&mut rng, &t.name);
                        let total = format!("{},{:02}", rng.below(300) + 1, rng.below(100));
                        let mut flags = c.flags();
                        flags.extend(["--total".to_owned(), total]);
                        let args: Vec<&str> = std::iter::once("sale").chain(flags.iter().map(String::as_str)).collect();
                        let ran = t.run(&args, Duration::from_secs(60));
                        if ran.code == Some(0) {
                            figures.sales.fetch_add(1, SeqCst);
                            sales_made.lock().unwrap()[i] += 1;
                        } else {
                            errors.lock().unwrap().push(format!("sale on {}: {}", t.name, ran.stderr.trim()));
                        }
                    }
                    let kill = rng.chance(0.3).then(|| rng.millis(20, 800));
                    let ran = t.run_until(&["sync"], None, kill, Duration::from_secs(120));
                    figures.syncs.fetch_add(1, SeqCst);
                    if ran.killed {
                        figures.terminal_kills.fetch_add(1, SeqCst);
                    } else if ran.code != Some(0) {
                        figures.sync_failures.fetch_add(1, SeqCst);
                        if ran.error_kind().as_deref() == Some("busy") {
                            figures.busy_in_chaos.fetch_add(1, SeqCst);
                        }
                        if ran.code != Some(3) {
                            errors.lock().unwrap().push(format!("sync on {}: {}", t.name, ran.stderr.trim()));
                        }
                    }
                    idle.put(i);
                }
            });
        }
        // A server killed while a push is in flight, then restarted on its port.
        {
            let mut rng = Rng::new(seed ^ 0xDEAD_BEEF);
            let (servers, proxy, figures) = (&servers, &proxy, &figures);
            s.spawn(move || {
                while !over() {
                    thread::sleep(rng.millis(1_000, 4_000));
                    let b = rng.below(2) as usize;
                    let watch = Instant::now();
                    let mut hit = false;
                    while watch.elapsed() < Duration::from_secs(5) && !over() {
                        if proxy.state.pushes_in_flight[b].load(SeqCst) > 0 {
                            hit = true;
                            break;
                        }
                        thread::sleep(Duration::from_millis(1));
                    }
                    if !hit {
                        figures.kill_attempts_without_push.fetch_add(1, SeqCst);
                        continue;
                    }
                    let mut server = servers[b].lock().unwrap();
                    server.kill();
                    figures.server_kills.fetch_add(1, SeqCst);
                    thread::sleep(rng.millis(100, 1_500));
                    server.restart();
                }
            });
        }
        let week = week.join().expect("week terminal");
        (week, chaos_started)
    });
    figures.captures.fetch_add(week_imported, SeqCst);
    let chaos_took = chaos_started.elapsed();
    let week_days_back = (now - week_first_created) as f64 / 86_400.0;
    assert!(week_days_back > 5.5, "the week's first capture is {week_days_back:.1} days old");

    // Healing: no more faults; every terminal syncs until its outbox is empty, then two rounds.
    proxy.state.cutting.store(false, SeqCst);
    for s in &servers {
        let mut s = s.lock().unwrap();
        if !s.is_running() {
            s.restart();
        }
    }
    let heal_started = Instant::now();
    let heal_until = heal_started + scale.heal;
    let busy_in_heal: Vec<AtomicU64> = terms.iter().map(|_| AtomicU64::new(0)).collect();
    let heal_errors: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let drained: Vec<AtomicBool> = terms.iter().map(|_| AtomicBool::new(false)).collect();
    parallel(terms.len(), 3, |i| {
        let t = &terms[i];
        while Instant::now() < heal_until {
            let ran = t.run(&["sync"], Duration::from_secs(180));
            if ran.code == Some(0) {
                if ran.json()["pending"] == 0 {
                    drained[i].store(true, SeqCst);
                    return;
                }
            } else if ran.error_kind().as_deref() == Some("busy") {
                busy_in_heal[i].fetch_add(1, SeqCst);
                thread::sleep(Duration::from_secs(1));
            } else {
                heal_errors.lock().unwrap().push(format!("{}: {}", t.name, ran.stderr.trim()));
                thread::sleep(Duration::from_millis(300));
            }
        }
    });
    let drained_after = heal_started.elapsed();
    for round in 0..2 {
        parallel(terms.len(), 3, |i| {
            let ran = terms[i].run(&["sync"], Duration::from_secs(180));
            if ran.code != Some(0) {
                heal_errors.lock().unwrap().push(format!("round {round}, {}: {}", terms[i].name, ran.stderr.trim()));
            }
        });
    }
    let converge_took = heal_started.elapsed();
    for s in &servers {
        s.lock().unwrap().kill();
    }

    // --- What the server holds, and every terminal against it ---
    let server_customers: BTreeMap<Uuid, pos_core::Customer> = server_rows(&db.url, "customers", &org)
        .iter()
        .map(|row| {
            let c: pos_core::Customer = serde_json::from_str(row).expect("server customer JSON");
            (c.id, c)
        })
        .collect();
    let server_sales: BTreeMap<Uuid, Value> = server_rows(&db.url, "sales", &org)
        .iter()
        .map(|row| {
            let sale: pos_core::Sale = serde_json::from_str(row).expect("server sale JSON");
            (sale.id, sale_value(&sale))
        })
        .collect();
    let live = server_customers.values().filter(|c| c.merged_into.is_none()).count();
    let reviews = admin(&db.url, &["review-items", "--org", &org]).as_array().map_or(0, Vec::len);

    let mut failures: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut fail = |what: &'static str, text: String| failures.entry(what).or_default().push(text);
    // I1 on the server's rows.
    for key in ["phone", "email", "identification", "passport_number"] {
        let dups = psql(
            &db.url,
            &format!(
                "SELECT {key}, count(*) FROM customers WHERE organization_id = '{org}' AND merged_into IS NULL
                 AND {key} IS NOT NULL GROUP BY {key} HAVING count(*) > 1 LIMIT 5"
            ),
        );
        if !dups.trim().is_empty() {
            fail("I1: two live customers share a key", format!("{key}: {}", dups.trim().replace('\n', ", ")));
        }
    }
    for e in chaos_errors.lock().unwrap().iter() {
        fail("a command failed (not transiently) under faults", e.clone());
    }
    for e in heal_errors.lock().unwrap().iter() {
        fail("a sync failed while healing", e.clone());
    }
    let made = sales_made.lock().unwrap().clone();
    let mut differing_terminals = 0;
    for (i, t) in terms.iter().enumerate() {
        let local = read_local(t);
        let name = &t.name;
        if local.integrity != "ok" {
            fail("PRAGMA integrity_check", format!("{name}: {}", local.integrity));
        }
        if !drained[i].load(SeqCst) || local.pending > 0 {
            fail("I2: outbox not empty after healing", format!("{name}: {} pending", local.pending));
        }
        if !local.rejected.is_empty() {
            let first = local.rejected[0].to_string();
            fail(
                "I2: changes rejected (none was invalid input)",
                format!("{name}: {} rejected; first: {}", local.rejected.len(), &first[..first.len().min(1500)]),
            );
        }
        let busy = busy_in_heal[i].load(SeqCst);
        if busy > 0 {
            fail(
                "finding 4: sync answered busy with no other uploader running (stale lease of a killed sync)",
                format!("{name}: {busy} busy answers while healing"),
            );
        }
        if let Some((count, text)) = customer_diff(&local.customers, &server_customers) {
            differing_terminals += 1;
            fail(
                "I3: terminal differs from the server's customers",
                format!("{name} (cursor {}): {count} customers: {text}", local.cursor),
            );
        }
        let own_local = local.sales.values().filter(|s| s["terminal_id"] == local.device.to_string()).count() as u64;
        let own_server = server_sales.values().filter(|s| s["terminal_id"] == local.device.to_string()).count() as u64;
        if own_local != made[i] || own_server != made[i] {
            fail(
                "I2: sales of a terminal not exactly once on the server",
                format!("{name}: made {}, holds {own_local} of its own, server holds {own_server}", made[i]),
            );
        }
        if local.sales != server_sales {
            let missing = server_sales.keys().filter(|k| !local.sales.contains_key(k)).count();
            let differ = server_sales.iter().filter(|(k, v)| local.sales.get(k).is_some_and(|l| l != *v)).count();
            let first = server_sales.iter().find(|(k, v)| local.sales.get(k) != Some(v)).map(|(k, v)| {
                format!(
                    "sale {k}: terminal {} / server {v}",
                    local.sales.get(k).map_or("(none)".to_owned(), Value::to_string)
                )
            });
            fail(
                "I3: terminal's sales differ from the server's",
                format!(
                    "{name}: holds {} sales, server {}; {missing} missing, {differ} differ; {}",
                    local.sales.len(),
                    server_sales.len(),
                    first.unwrap_or_default()
                ),
            );
        }
    }

    let st = &proxy.state;
    let connections = st.connections.load(SeqCst);
    let cut = st.cut_up.load(SeqCst) + st.cut_down.load(SeqCst);
    eprintln!("\n=== faults: figures ===");
    eprintln!(
        "terminals              {} ({} syncing under faults, 1 with its clock +3 days, 1 offline for a week)",
        terms.len(),
        n
    );
    eprintln!(
        "captures               {} ({} in the offline week, {} add refused locally as duplicates)",
        figures.captures.load(SeqCst),
        week_imported,
        figures.refused_locally.load(SeqCst)
    );
    eprintln!("sales                  {}", figures.sales.load(SeqCst));
    eprintln!(
        "syncs under faults     {} ({} failed transiently, {} of them busy)",
        figures.syncs.load(SeqCst),
        figures.sync_failures.load(SeqCst),
        figures.busy_in_chaos.load(SeqCst)
    );
    eprintln!(
        "server kills mid-push  {} ({} times no push came within 5 s)",
        figures.server_kills.load(SeqCst),
        figures.kill_attempts_without_push.load(SeqCst)
    );
    eprintln!("terminal kills         {} (pos-terminal sync killed part-way)", figures.terminal_kills.load(SeqCst));
    eprintln!(
        "connections            {connections} through the proxy, {} planned to cut, {cut} cut ({} requests, {} answers; {:.0} % of all), {} refused (server down)",
        st.planned.load(SeqCst),
        st.cut_up.load(SeqCst),
        st.cut_down.load(SeqCst),
        100.0 * cut as f64 / connections.max(1) as f64,
        st.refused.load(SeqCst)
    );
    eprintln!("offline week           synced during the faults: {}", week_synced.load(SeqCst));
    eprintln!(
        "server                 {} customers ({live} live, {} tombstones), {} sales, {reviews} review items",
        server_customers.len(),
        server_customers.len() - live,
        server_sales.len()
    );
    eprintln!("time                   build {}, setup {}, fault phase {}, outboxes empty after {}, converged (two more rounds) after {}, total {}", secs(built_in), secs(setup_done), secs(chaos_took), secs(drained_after), secs(converge_took), secs(started.elapsed()));
    eprintln!("terminals differing    {differing_terminals} of {}", terms.len());
    if failures.is_empty() {
        eprintln!("all invariants hold");
        return;
    }
    let mut report = String::new();
    for (what, items) in &failures {
        let _ = write!(report, "\n\n## {what} ({} cases)", items.len());
        for item in items.iter().take(6) {
            let _ = write!(report, "\n  - {item}");
        }
    }
    let _ = write!(report, "\n\n(server logs: {})", logs.path().display());
    // Keep the logs to read after a failure.
    let _ = logs.keep();
    panic!("the fault test found {} kinds of failure (seed {seed}):{report}", failures.len());
}

/// Whether the fault phase that began at `start` is over: it lasts `chaos`, and longer (a
/// minute and a half at most) until the offline week's terminal has tried to sync under faults.
fn faults_over(start: Instant, chaos: Duration, week_tried: &AtomicBool) -> bool {
    let elapsed = start.elapsed();
    elapsed >= chaos + Duration::from_secs(90) || (elapsed >= chaos && week_tried.load(SeqCst))
}

/// Starts the fault phase's clock when dropped, if nothing else did.
struct StartOnDrop<'a>(&'a OnceLock<Instant>);

impl Drop for StartOnDrop<'_> {
    fn drop(&mut self) {
        self.0.get_or_init(Instant::now);
    }
}

/// Runs `f(0..count)` on `threads` threads, each taking the next index.
fn parallel(count: usize, threads: usize, f: impl Fn(usize) + Sync) {
    let next = AtomicUsize::new(0);
    thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, SeqCst);
                if i >= count {
                    break;
                }
                f(i);
            });
        }
    });
}
