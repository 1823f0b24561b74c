#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine that has the Rust toolchain.
# Idempotent and quiet when everything is already there. Grows with the product: the sync server
# (PostgreSQL) and the desktop app (WebKitGTK, Xvfb, tauri-driver) add their needs here.
set -euo pipefail

need_cmd() { command -v "$1" >/dev/null 2>&1; }

if ! need_cmd cargo; then
    echo "setup: cargo is missing; install the Rust toolchain (rustup) first." >&2
    exit 1
fi

# rustfmt and clippy ship with rustup's default profile; add them where a minimal one is used.
for component in rustfmt clippy; do
    if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
        rustup component add "$component"
    fi
done

# C toolchain for the bundled SQLite.
if ! need_cmd cc; then
    apt_install=(build-essential pkg-config)
    if [ "$(id -u)" -eq 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_install[@]}"
    else
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_install[@]}"
    fi
fi
