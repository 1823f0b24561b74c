#!/usr/bin/env bash
# The product on this machine: a sync server on embedded SQLite with the demo organisation, and
# the desktop app registered to it. Closing the window stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

data="${POS_DATA:-$HOME/.local/share/pos-demo}"
mkdir -p "$data/desktop"
server_db="sqlite://$data/server.db"
bind="${BIND:-127.0.0.1:8780}"
bin=target/release

"$bin/sync-server" --database-url "$server_db" serve --bind "$bind" >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
host=${bind%:*}; port=${bind##*:}
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && break; sleep 0.1; done

demo=$("$bin/sync-server" --database-url "$server_db" admin demo)
echo "Sync server on http://$bind (embedded SQLite at $data/server.db, log in $data/server.log)."
echo "Sign in at POST http://$bind/api/token/ as gerente/gerente123 (manager), cajero/cajero123 (cashier) or admin/admin123."

register=()
# Registered once the app has saved its server's address (the credential itself may be in the OS
# keyring rather than a file, so its presence is not what says so).
if ! grep -Eqs '"server_url"[[:space:]]*:[[:space:]]*"' "$data/desktop/settings.json"; then
    org=$(printf '%s' "$demo" | sed -E 's/.*"organization_id":"([^"]+)".*/\1/')
    code=$(printf '%s' "$demo" | sed -E 's/.*"registration_code":"([^"]+)".*/\1/')
    echo "First run: loading ${DEMO_CUSTOMERS:-100000} demo customers into the server; the app pulls them in the background."
    "$bin/sync-server" --database-url "$server_db" admin seed-demo --org "$org" --count "${DEMO_CUSTOMERS:-100000}" >/dev/null
    register=(--server "http://$bind" --registration-code "$code" --terminal-name "Caja demo")
fi

if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
    # No screen (a server or CI machine): run the real window on a virtual display.
    echo "No display found: the window runs on Xvfb :77 (see it with: import -display :77 -window root shot.png)."
    Xvfb :77 -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
    xvfb=$!
    trap 'kill $server $xvfb 2>/dev/null || true' EXIT
    export DISPLAY=:77
    sleep 1
fi
echo "Opening the POS window (store in $data/desktop)."
"$bin/pos-desktop" --data-dir "$data/desktop" "${register[@]}"
