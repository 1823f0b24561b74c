//! The credential against a real Secret Service: a private session bus (`dbus-daemon`) and GNOME
//! Keyring unlocked with a known password, both in a fresh home directory, started by the test.
//!
//! The code under test finds the bus through `DBUS_SESSION_BUS_ADDRESS`, so each scenario runs in
//! a child process (this test binary again, filtered to this one test) given the address in its
//! environment; this process's own environment is never changed.

#![cfg(target_os = "linux")]

use pos_credential::{DeviceCredential, Place, CREDENTIAL_FILE, SESSION_BUS_VAR};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SERVICE: &str = "pos-credential-test";
const SCENARIO_VAR: &str = "POS_CREDENTIAL_SCENARIO";
const DIR_A_VAR: &str = "POS_CREDENTIAL_DIR_A";
const DIR_B_VAR: &str = "POS_CREDENTIAL_DIR_B";

#[test]
fn credential_in_a_real_secret_service_and_its_fallbacks() {
    if let Ok(scenario) = std::env::var(SCENARIO_VAR) {
        let dir = |var| PathBuf::from(std::env::var(var).unwrap());
        return match scenario.as_str() {
            "no-bus" => no_bus(&dir(DIR_A_VAR)),
            "no-service" => no_service(&dir(DIR_A_VAR)),
            "keyring" => keyring(&dir(DIR_A_VAR), &dir(DIR_B_VAR)),
            "locked" => locked(&dir(DIR_B_VAR)),
            other => panic!("unknown scenario {other}"),
        };
    }

    let home = tempfile::tempdir().unwrap();
    let (a, b) = (home.path().join("terminal-a"), home.path().join("terminal-b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let session = Session::start(home.path());

    run_scenario("no-bus", None, &a, &b);
    run_scenario("no-service", Some(&session.address), &a, &b);
    let _keyring = session.start_keyring(home.path());
    run_scenario("keyring", Some(&session.address), &a, &b);
    session.lock_default_collection();
    run_scenario("locked", Some(&session.address), &a, &b);
}

/// No session bus: the credential lives in the private file.
fn no_bus(a: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let credential = DeviceCredential::open(SERVICE, a);
    assert_eq!(credential.store("a-secret-0").unwrap(), Place::File);
    assert_eq!(credential.load().unwrap().as_deref(), Some("a-secret-0"));
    let mode = std::fs::metadata(a.join(CREDENTIAL_FILE)).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// A session bus with no Secret Service on it: the keyring fails, the file takes the credential.
fn no_service(a: &Path) {
    let credential = DeviceCredential::open(SERVICE, a);
    assert_eq!(credential.store("a-secret-1").unwrap(), Place::File);
    assert_eq!(credential.load().unwrap().as_deref(), Some("a-secret-1"));
    assert!(a.join(CREDENTIAL_FILE).exists());
}

/// GNOME Keyring on the bus: the file's credential moves in, each data directory has its own
/// entry, nothing is written to a file, and delete forgets it.
fn keyring(a: &Path, b: &Path) {
    let terminal_a = DeviceCredential::open(SERVICE, a);
    assert_eq!(terminal_a.load().unwrap().as_deref(), Some("a-secret-1"), "the file's credential is read");
    assert!(!a.join(CREDENTIAL_FILE).exists(), "the file's credential moved into the keyring");
    assert_eq!(terminal_a.load().unwrap().as_deref(), Some("a-secret-1"), "now from the keyring");
    assert_eq!(DeviceCredential::file_only(a).load().unwrap(), None);

    let terminal_b = DeviceCredential::open(SERVICE, b);
    assert_eq!(terminal_b.load().unwrap(), None, "another data directory is another entry");
    assert_eq!(terminal_b.store("b-secret-1").unwrap(), Place::Keyring);
    assert_eq!(terminal_b.store("b-secret-2").unwrap(), Place::Keyring);
    assert_eq!(terminal_b.load().unwrap().as_deref(), Some("b-secret-2"));
    assert_eq!(terminal_a.load().unwrap().as_deref(), Some("a-secret-1"));
    assert_eq!(std::fs::read_dir(b).unwrap().count(), 0, "no file written for a keyring credential");

    // A credential written to the file while the keyring was away wins over the keyring's older one.
    pos_credential::PrivateFile::new(b).store("b-secret-3").unwrap();
    assert_eq!(terminal_b.load().unwrap().as_deref(), Some("b-secret-3"));
    assert!(!b.join(CREDENTIAL_FILE).exists());
    assert_eq!(terminal_b.load().unwrap().as_deref(), Some("b-secret-3"));

    terminal_b.delete().unwrap();
    assert_eq!(terminal_b.load().unwrap(), None);
    assert_eq!(terminal_a.load().unwrap().as_deref(), Some("a-secret-1"));
    terminal_a.delete().unwrap();
    assert_eq!(terminal_a.load().unwrap(), None);
}

/// The keyring is locked: storing would need a password typed into a prompt. The credential goes
/// to the file at once instead of waiting for anyone.
fn locked(b: &Path) {
    let credential = DeviceCredential::open(SERVICE, b);
    let started = Instant::now();
    assert_eq!(credential.store("b-secret-4").unwrap(), Place::File);
    assert_eq!(credential.load().unwrap().as_deref(), Some("b-secret-4"));
    assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
    assert!(b.join(CREDENTIAL_FILE).exists());
}

fn run_scenario(name: &str, bus: Option<&str>, a: &Path, b: &Path) {
    let mut child = Command::new(std::env::current_exe().unwrap());
    child
        .args(["--exact", "credential_in_a_real_secret_service_and_its_fallbacks", "--nocapture"])
        .env(SCENARIO_VAR, name)
        .env(DIR_A_VAR, a)
        .env(DIR_B_VAR, b)
        .env("RUST_BACKTRACE", "1");
    match bus {
        Some(address) => child.env(SESSION_BUS_VAR, address),
        None => child.env_remove(SESSION_BUS_VAR),
    };
    let out = child.output().unwrap();
    assert!(
        out.status.success(),
        "scenario {name} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 passed"), "scenario {name} ran no test:\n{stdout}");
}

/// A private session bus, with no service activation (so nothing starts on it by itself).
struct Session {
    daemon: Child,
    address: String,
}

impl Session {
    fn start(home: &Path) -> Self {
        let config = home.join("session.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                home.display()
            ),
        )
        .unwrap();
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon runs (scripts/setup.sh installs it)");
        let mut address = String::new();
        BufReader::new(daemon.stdout.take().unwrap()).read_line(&mut address).unwrap();
        let address = address.trim().to_owned();
        assert!(address.starts_with("unix:"), "dbus-daemon printed no address");
        Self { daemon, address }
    }

    /// GNOME Keyring's Secret Service on this bus, its login keyring created and unlocked with a
    /// password on standard input (so it has a default collection and never prompts).
    fn start_keyring(&self, home: &Path) -> Daemon {
        let runtime = home.join("runtime");
        std::fs::create_dir_all(&runtime).unwrap();
        let private = std::os::unix::fs::PermissionsExt::from_mode(0o700);
        std::fs::set_permissions(&runtime, private).unwrap();
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env(SESSION_BUS_VAR, &self.address)
            .env("HOME", home)
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon runs (scripts/setup.sh installs it)");
        let mut stdin = keyring.stdin.take().unwrap();
        stdin.write_all(b"test-password").unwrap();
        drop(stdin);
        let daemon = Daemon(keyring);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.has_owner("org.freedesktop.secrets") {
            assert!(Instant::now() < deadline, "gnome-keyring-daemon did not take the Secret Service name");
            std::thread::sleep(Duration::from_millis(50));
        }
        daemon
    }

    fn has_owner(&self, name: &str) -> bool {
        let reply = self.call(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            &[&format!("string:{name}")],
        );
        reply.contains("boolean true")
    }

    fn lock_default_collection(&self) {
        let (secrets, service) = ("/org/freedesktop/secrets", "org.freedesktop.Secret.Service");
        let alias = self.call("org.freedesktop.secrets", secrets, &format!("{service}.ReadAlias"), &["string:default"]);
        let collection = alias.split('"').nth(1).expect("the default collection's path");
        self.call(
            "org.freedesktop.secrets",
            secrets,
            &format!("{service}.Lock"),
            &[&format!("array:objpath:{collection}")],
        );
    }

    /// A method call with `dbus-send`; its printed reply.
    fn call(&self, dest: &str, path: &str, method: &str, args: &[&str]) -> String {
        let out = Command::new("dbus-send")
            .env(SESSION_BUS_VAR, &self.address)
            .args(["--session", "--print-reply", &format!("--dest={dest}"), path, method])
            .args(args)
            .output()
            .expect("dbus-send runs (scripts/setup.sh installs it)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// A daemon this test started, stopped when the test ends.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
