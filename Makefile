# One command runs the product, one runs every test. Each installs what it needs first.
#   make run    – the product as far as it exists: a sync server on embedded SQLite with the demo
#                 organisation, and a registered terminal at the interactive counter
#   make test   – formatting, clippy and every test in the workspace
#   make bench  – the lookup benchmark on 1,000,000 generated customers

CARGO ?= cargo

.PHONY: run test bench setup check lint fmt

setup:
	@scripts/setup.sh

run: setup
	$(CARGO) build --release -p pos-terminal -p sync-server
	scripts/run.sh

test: setup lint
	$(CARGO) test --workspace --locked

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt --all

bench: setup
	$(CARGO) bench -p pos-store --bench lookup
	$(CARGO) bench -p sync-server --bench merge
