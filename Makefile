# One command runs the product, one runs every test. Each installs what it needs first.
#   make run    – the product as far as it exists (today: the terminal store with demo data and
#                 the interactive counter lookup)
#   make test   – formatting, clippy and every test in the workspace
#   make bench  – the lookup benchmark on 1,000,000 generated customers

CARGO ?= cargo
RUN_DB ?= $(HOME)/.local/share/pos-terminal/demo.db
DEMO_CUSTOMERS ?= 100000

.PHONY: run test bench setup check lint fmt

setup:
	@scripts/setup.sh

run: setup
	$(CARGO) build --release -p pos-terminal
	@if [ ! -f "$(RUN_DB)" ]; then \
		echo "Loading $(DEMO_CUSTOMERS) demo customers into $(RUN_DB)…"; \
		target/release/pos-terminal --db "$(RUN_DB)" seed-demo --count $(DEMO_CUSTOMERS) >/dev/null; \
	fi
	target/release/pos-terminal --db "$(RUN_DB)" counter

test: setup lint
	$(CARGO) test --workspace --locked

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

fmt:
	$(CARGO) fmt --all

bench: setup
	$(CARGO) bench -p pos-store --bench lookup
