# One command runs the product, one runs every test. Each installs what it needs first.
#   make run    – the product: a sync server on embedded SQLite with the demo organisation, and
#                 the desktop app registered to it
#   make test   – formatting, clippy and every test in the workspace, the desktop app's
#                 end-to-end tests in a real window included
#   make bench  – the lookup, merge and desktop benchmarks
#   make soak   – the long runs: the sync simulation for SOAK_SECONDS (default 600) per test,
#                 then the process-level fault test at a bigger scale (FAULTS_SCALE, default 4;
#                 FAULTS_SEED repeats a run's data and choices, SIM_SEED one simulated history)
#   make deb    – the desktop app as a Debian package

CARGO ?= cargo

.PHONY: run test bench soak setup check lint fmt ui deb

setup:
	@scripts/setup.sh

# The window's assets; the desktop binary embeds ui/dist when it is compiled.
ui: setup
	cd ui && npm run build --silent

run: setup ui
	$(CARGO) build --release --bins --workspace
	scripts/run.sh

test: setup ui lint
	$(CARGO) test --workspace --locked

lint: ui
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt --all

bench: setup
	$(CARGO) bench -p pos-store --bench lookup
	$(CARGO) bench -p sync-server --bench merge

# Long runs. The simulation (sync-server/tests/simulation) runs new seeded histories for
# SOAK_SECONDS in each of its two tests; the fault test (tests/faults) at FAULTS_SCALE: per unit
# of scale 30 terminals, 40 captures each, 10,000 in the offline week and 40 s of faults.
SOAK_SECONDS ?= 600
FAULTS_SCALE ?= 4
soak: setup
	SIM_SECONDS=$(SOAK_SECONDS) $(CARGO) test -p sync-server --test simulation --locked -- --nocapture
	FAULTS_SCALE=$(FAULTS_SCALE) $(CARGO) test -p pos-e2e --test faults --locked -- --nocapture

# The desktop app as a .deb (release build with the UI embedded) under target/release/bundle/deb/.
# The Tauri CLI is fetched at its pinned version when needed (npm's lock file cannot hold its
# per-platform binaries portably, so it is not a dev dependency of ui/).
deb: setup ui
	npm exec --yes --package=@tauri-apps/cli@2.12.5 -- tauri build --bundles deb
