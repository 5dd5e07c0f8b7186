# codeanatomy: every set-up step lives here, so a fresh machine needs only `make golden` or `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Cargo's target folder lives outside the work tree and is reused across clones and sessions,
# so only our crate rebuilds (DataFusion + delta-rs from scratch take most of an hour on 2 cores).
CARGO_TARGET_DIR ?= $(HOME)/.cache/codeanatomy/target
export CARGO_TARGET_DIR
# Use the machine's CPython 3.11; never download an interpreter.
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := python3.11
# Compile the environment's bytecode at install time: otherwise, where PYTHONDONTWRITEBYTECODE
# is set (as on this project's CI machines), every process compiles about a thousand modules
# (3-4 s of CPU) before it does anything.
export UV_COMPILE_BYTECODE := 1
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
RUN := $(UV) run --frozen --no-sync
GOLDEN_OUT ?= reports/golden
# [gates].bench_json: the benchmarks write their bench_*.json beside it (the perf gate reads them).
BENCH_JSON ?= reports/bench.json
CARGO_FLAGS := --release --manifest-path backends/rust/Cargo.toml
# actionlint validates .github/workflows; built from Go's module proxy into the shared cache.
ACTIONLINT_VERSION := v1.7.7
ACTIONLINT := $(HOME)/.cache/codeanatomy/bin/actionlint
# SeaweedFS (Apache-2.0): the S3-compatible server the tests store Delta tables on (tests/s3_server.py).
# Its go.mod has replace directives, which `go install pkg@version` refuses, so the module is
# downloaded from Go's module proxy, copied out of the read-only module cache and built there.
# The binary's name carries the version (a new pin builds anew); `weed` links to it.
SEAWEEDFS_VERSION := v0.0.0-20261109003541-7506e5f91cd6
WEED := $(HOME)/.cache/codeanatomy/bin/weed
WEED_BUILT := $(WEED)-$(SEAWEEDFS_VERSION)

.PHONY: help setup uv sync scip actionlint s3server lint fmt test test-fast test-rust test-py golden bench wheel clean-cache

help:
	@echo "make golden  - set up everything, then shadow-run both backends on every golden repo"
	@echo "make test    - set up everything, then run linters, cargo tests and pytest"
	@echo "make test-fast - pytest without the slow tests, on every core (the inner loop)"
	@echo "make bench   - pytest-benchmark benchmarks (tests/bench)"
	@echo "make wheel   - the abi3 wheel (dist/), installable with pip on a machine without Rust"

setup: sync scip

uv:
	@if [ ! -x "$(UV)" ]; then \
	  echo "installing uv $(UV_VERSION) into ~/.local/bin"; \
	  python3.11 -m pip install --user --quiet "uv==$(UV_VERSION)"; \
	fi

# Installs the locked Python dependencies and builds the Rust extension (maturin, release)
# into an editable install; uv rebuilds it when a cache-key file in pyproject.toml changes.
sync: uv
	$(UV) sync --frozen --extra legacy --extra distributed
	@# The project's own modules too: with PYTHONDONTWRITEBYTECODE set (as on CI images) every
	@# process would otherwise compile them again (stale .pyc files are ignored by mtime).
	$(RUN) python -m compileall -q harness backends tests >/dev/null

# scip-python, pinned in tools/scip/package-lock.json, installed into tools/scip/node_modules.
scip:
	@if [ ! -x tools/scip/node_modules/.bin/scip-python ] || \
	    [ tools/scip/package-lock.json -nt tools/scip/node_modules/.package-lock.json ]; then \
	  cd tools/scip && npm ci --no-audit --no-fund --loglevel=error; \
	fi

$(ACTIONLINT):
	GOBIN=$(dir $(ACTIONLINT)) GOFLAGS=-mod=mod go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

actionlint: $(ACTIONLINT)
	$(ACTIONLINT) -shellcheck= .github/workflows/*.yml

$(WEED_BUILT):
	@src=$$(cd /tmp && go mod download -json github.com/seaweedfs/seaweedfs@$(SEAWEEDFS_VERSION) \
	  | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])'); \
	work=$$(mktemp -d); trap 'chmod -R u+w "$$work"; rm -rf "$$work"' EXIT; \
	echo "building SeaweedFS $(SEAWEEDFS_VERSION) into $@"; mkdir -p "$(dir $@)"; \
	cp -R "$$src/." "$$work/" && chmod -R u+w "$$work"; \
	cd "$$work" && go build -trimpath -buildvcs=false -ldflags="-s -w" -o "$@.tmp" ./weed && mv "$@.tmp" "$@"

# The S3 server for the tests: built once, then a no-op.
s3server: $(WEED_BUILT)
	@ln -sfn "$(notdir $(WEED_BUILT))" "$(WEED)"

lint: sync actionlint
	$(RUN) ruff format --check .
	$(RUN) ruff check .
	$(RUN) mypy
	$(RUN) lint-imports
	cargo fmt --manifest-path backends/rust/Cargo.toml --check
	cargo clippy $(CARGO_FLAGS) --all-targets --features python -- -D warnings

fmt: sync
	$(RUN) ruff format .
	$(RUN) ruff check --fix .
	cargo fmt --manifest-path backends/rust/Cargo.toml

test-rust:
	cargo test $(CARGO_FLAGS)

test-py: setup s3server
	$(RUN) pytest -q --durations=25

# The inner loop: no end-to-end (`slow`) tests, spread over every core by pytest-xdist.
test-fast: setup s3server
	$(RUN) pytest -q -m "not slow" -n auto

test: setup s3server lint test-rust test-py

golden: setup
	$(RUN) codeanatomy golden shadow --out $(GOLDEN_OUT) --with-sdists

bench: setup
	$(RUN) pytest tests/bench -o addopts="" --benchmark-only -s -q \
	  --benchmark-json=$(BENCH_JSON)

# One abi3 wheel (CPython >= 3.11) holding the compiled engine and both Python packages; it
# reuses the shared target folder, so after `make sync` it only repackages.
wheel: sync
	$(RUN) maturin build --release --locked --out dist

clean-cache:
	rm -rf $(HOME)/.cache/codeanatomy/extract
