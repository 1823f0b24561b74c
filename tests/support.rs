//! Shared helpers for the end-to-end tests: locating the workspace's binaries (building them
//! when missing) and running them on a throw-away store.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The target directory the test binary itself was built into (`target/debug`).
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/debug/deps/<test> → target/debug
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target dir")
        .to_path_buf()
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
        let status = build
            .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .status()
            .expect("run cargo build");
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
        let Output {
            status,
            stdout,
            stderr,
        } = Command::new(binary("pos-terminal"))
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .output()
            .expect("run pos-terminal");
        let parse = |bytes: &[u8]| {
            serde_json::from_slice(bytes).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned())
            })
        };
        Run {
            code: status.code().unwrap_or(-1),
            stdout: parse(&stdout),
            stderr: parse(&stderr),
        }
    }

    /// Runs a command that must succeed and returns its JSON output.
    pub fn ok(&self, args: &[&str]) -> serde_json::Value {
        let run = self.run(args);
        assert_eq!(
            run.code, 0,
            "pos-terminal {args:?} failed: {:?}",
            run.stderr
        );
        run.stdout
    }
}

impl Default for Terminal {
    fn default() -> Self {
        Self::new()
    }
}
