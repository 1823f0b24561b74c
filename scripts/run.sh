#!/usr/bin/env bash
# The product on this machine: a sync server on embedded SQLite with the demo organisation, and
# a terminal registered to it, synced, at the counter. Ctrl-D or an empty line at the counter
# stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

data="${POS_DATA:-$HOME/.local/share/pos-demo}"
mkdir -p "$data"
server_db="sqlite://$data/server.db"
terminal_db="$data/terminal.db"
bind="${BIND:-127.0.0.1:8780}"
bin=target/release

"$bin/sync-server" --database-url "$server_db" serve --bind "$bind" >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
host=${bind%:*}; port=${bind##*:}
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && break; sleep 0.1; done

demo=$("$bin/sync-server" --database-url "$server_db" admin demo)
echo "Sync server on http://$bind (embedded SQLite at $data/server.db)."
echo "Sign in at POST http://$bind/api/token/ as gerente/gerente123 (manager), cajero/cajero123 (cashier) or admin/admin123."

if [ ! -f "$terminal_db" ]; then
    org=$(printf '%s' "$demo" | sed -E 's/.*"organization_id":"([^"]+)".*/\1/')
    code=$(printf '%s' "$demo" | sed -E 's/.*"registration_code":"([^"]+)".*/\1/')
    echo "First run: loading ${DEMO_CUSTOMERS:-100000} demo customers into the server…"
    "$bin/sync-server" --database-url "$server_db" admin seed-demo --org "$org" --count "${DEMO_CUSTOMERS:-100000}" >/dev/null
    "$bin/pos-terminal" --db "$terminal_db" register --server "http://$bind" --code "$code" --name "Caja demo" >/dev/null
    echo "…and bootstrapping the terminal from it."
fi
"$bin/pos-terminal" --db "$terminal_db" sync >/dev/null || echo "(sync failed; the counter works offline)"
"$bin/pos-terminal" --db "$terminal_db" counter
