#!/usr/bin/env bash
# Installs and starts what the project needs on a fresh Debian machine that has the Rust
# toolchain. Idempotent and quiet when everything is already there.
#   - rustfmt and clippy
#   - a C compiler (bundled SQLite)
#   - PostgreSQL on 127.0.0.1:5432 with a `test` database the `postgres` user reaches without a
#     password (the storage tests run on it as well as on SQLite)
#   - the desktop app's system libraries (WebKitGTK 4.1), and for its end-to-end tests a virtual
#     display (Xvfb), WebKitWebDriver, tauri-driver and ImageMagick (screenshots)
#   - libdbus (the device credential goes to the OS keyring over D-Bus), and for the keyring's
#     test a session bus (dbus-daemon) and a real Secret Service (gnome-keyring)
#   - faketime (libfaketime): the process-level fault test runs one terminal with its clock days off
#   - the front end's npm packages (exact versions from ui/package-lock.json)
set -euo pipefail
cd "$(dirname "$0")/.."

need_cmd() { command -v "$1" >/dev/null 2>&1; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
    if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! need_cmd cargo; then
    echo "setup: cargo is missing; install the Rust toolchain (rustup) first." >&2
    exit 1
fi
cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt
cargo clippy --version >/dev/null 2>&1 || rustup component add clippy
need_cmd cc || apt_install build-essential pkg-config

# --- Desktop app --------------------------------------------------------------------------------
desktop_pkgs=()
pkg_missing() { ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for pkg in libwebkit2gtk-4.1-dev libssl-dev pkg-config xvfb xauth webkit2gtk-driver imagemagick \
    libdbus-1-dev dbus-daemon dbus-bin gnome-keyring; do
    pkg_missing "$pkg" && desktop_pkgs+=("$pkg")
done
if [ "${#desktop_pkgs[@]}" -gt 0 ]; then
    echo "setup: installing ${desktop_pkgs[*]}" >&2
    apt_install "${desktop_pkgs[@]}"
fi
cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
if [ ! -x "$cargo_bin/tauri-driver" ]; then
    echo "setup: installing tauri-driver" >&2
    cargo install tauri-driver --locked --quiet
fi
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
    (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi

# --- Fault test -------------------------------------------------------------------------------
# tests/faults.rs runs one terminal with its clock days off under libfaketime.
if pkg_missing faketime; then
    echo "setup: installing faketime" >&2
    apt_install faketime
fi

# --- PostgreSQL -------------------------------------------------------------------------------
pg_up() { (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null; }
if ! pg_up; then
    if ! need_cmd pg_ctlcluster; then
        echo "setup: installing PostgreSQL" >&2
        apt_install postgresql postgresql-client
        fresh_install=1
    fi
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    if [ -n "${fresh_install:-}" ]; then
        # A test machine: let local connections in without a password, as the tests expect.
        hba=/etc/postgresql/$version/main/pg_hba.conf
        as_root sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
        as_root sed -i -E 's/^(local\s+all\s+postgres\s+)\S+/\1trust/' "$hba"
    fi
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
    pg_up || { echo "setup: PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1; }
fi
if need_cmd psql; then
    if ! psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
        psql -h 127.0.0.1 -U postgres -d postgres -qc "CREATE DATABASE test"
    fi
fi
