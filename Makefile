# Developer and CI commands. `make test` is what CI runs, through .ci/run.

PYTHON ?= python3
# Runs a command with localstripe and moto started on 127.0.0.1.
WITH_PEERS := $(PYTHON) scripts/peers/run.py --

.PHONY: test toolchain peers peers-shell demo bench

## Check formatting and lints, then run every test with the local peers.
test: toolchain peers
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(WITH_PEERS) cargo test --workspace
	$(MAKE) --no-print-directory demo

## Add rustfmt and clippy to the Rust toolchain (no download when present).
toolchain:
	rustup component add rustfmt clippy

## Install localstripe and moto into .venv/ (only when requirements.txt changed).
peers:
	$(PYTHON) scripts/peers/run.py --install-only

## Open a shell with the peers running and LOCALSTRIPE_URL, MOTO_URL set.
peers-shell: peers
	$(WITH_PEERS) $${SHELL:-bash}

## Run one sample registration end to end on this machine: localstripe, moto, the
## Shopify sandbox and the dev server, then print the Shopify order and the day's metrics.
demo: peers
	$(WITH_PEERS) cargo run -q -p dev-server --bin demo

## Measure start-up, memory, CPU per event, artifact sizes and a webhook burst, then
## rewrite docs/benchmarks.md from the results (about 30 minutes on 2 cores).
bench: peers
	bash scripts/build-lambdas.sh
	PATH="$$PWD/.venv-build/bin:$$PATH" cargo lambda build --release --arm64 --output-format zip -p bench-floor
	# Two builds, so that the tools' dependency features do not change the functions' binaries.
	cargo build --release -p create-intent -p validate-discount -p webhook -p health -p bench-floor
	cargo build --release -p dev-server -p bench
	cargo bench -p shared --bench per_event
	target/release/bench sizes
	$(WITH_PEERS) target/release/bench cold-start
	$(WITH_PEERS) target/release/bench burst
	target/release/bench report
