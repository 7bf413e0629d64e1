# Panjereh — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PANJEREH_ENV ?= development
# The demo's simulated agencies listen on 127.0.0.1 (refused otherwise, against SSRF).
export PANJEREH_ALLOW_PRIVATE_ENDPOINTS ?= true

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installs come from the lock files (every file's hash checked), never from the ranges in
# pyproject.toml: two installs a month apart run the same code (docs/adr/0007-locked-installs.md).
# Reinstall only when a lock changes.
$(VENV)/.installed: requirements/run.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/run.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

$(VENV)/.installed-test: requirements/test.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/test.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@ $(VENV)/.installed

.PHONY: install
install: $(VENV)/.installed ## Create .venv and install Panjereh

.PHONY: run
run: $(VENV)/.installed ## Create the embedded database, seed the demo government and serve on :8000 (PANJEREH_PORT)
	$(BIN)/panjereh serve --check-port
	$(BIN)/panjereh db upgrade
	$(BIN)/panjereh demo
	$(BIN)/panjereh serve

.PHONY: lint
lint: $(VENV)/.installed-test ## ruff, mypy --strict and the import-linter contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

.PHONY: audit
audit: $(VENV)/.installed-test ## Vulnerability audit of the locked dependencies (pip-audit)
	$(BIN)/python tools/dependency_audit.py

# The suite waits more than it computes (servers starting, sockets, fsyncs): two workers
# (pytest-xdist) take it from ~40 min to ~8.5 min on a 2-core machine. PYTEST_WORKERS=0 runs it
# in one process.
PYTEST_WORKERS ?= 2
.PHONY: test
test: lint audit ## Lint, audit the locked dependencies, then the whole test suite (PostgreSQL tests need PANJEREH_TEST_POSTGRES_URL)
	$(BIN)/pytest -n $(PYTEST_WORKERS)

# The locks: requirements/test.txt (everything) and requirements/run.txt (what `make run` and
# a release install, pinned to the same versions), both universal (every Python >= 3.11, every
# platform) and hashed. `make lock` after editing pyproject.toml keeps every other pin;
# `make lock UPGRADE=name` moves one dependency to its newest allowed release.
LOCK := $(BIN)/uv pip compile --quiet --generate-hashes --universal --python-version 3.11
.PHONY: lock
lock: $(VENV)/.installed-test ## Re-lock after a change to pyproject.toml (UPGRADE=name moves one dependency)
	$(LOCK) $(if $(UPGRADE),--upgrade-package $(UPGRADE)) pyproject.toml requirements/build.in --extra test -o requirements/test.txt
	$(LOCK) pyproject.toml requirements/build.in -c requirements/test.txt -o requirements/run.txt

.PHONY: upgrade
upgrade: $(VENV)/.installed-test ## Move every dependency to its newest allowed release, reinstall, run the suite
	$(LOCK) --upgrade pyproject.toml requirements/build.in --extra test -o requirements/test.txt
	$(LOCK) pyproject.toml requirements/build.in -c requirements/test.txt -o requirements/run.txt
	$(MAKE) test

# What a release installs (requirements/run.txt, in a venv of its own) as a CycloneDX 1.6 JSON
# document with each component's licence and hashes.
.PHONY: sbom
sbom: $(VENV)/.installed-test ## CycloneDX bill of materials of a release's installed set (dist/sbom.cdx.json)
	rm -rf build/sbom-venv && $(PYTHON) -m venv build/sbom-venv
	build/sbom-venv/bin/python -m pip install --quiet --require-hashes -r requirements/run.txt
	build/sbom-venv/bin/python -m pip install --quiet --no-deps --no-build-isolation .
	mkdir -p dist
	$(BIN)/cyclonedx-py environment --pyproject pyproject.toml --output-reproducible --of JSON \
	  -o dist/sbom.cdx.json build/sbom-venv/bin/python
	@echo "wrote dist/sbom.cdx.json"

.PHONY: screenshots
screenshots: $(VENV)/.installed-test ## Retake docs/screenshots/ with the browser tests (needs Debian's chromium)
	PANJEREH_SCREENSHOTS=docs/screenshots PANJEREH_TEST_BROWSER=required $(BIN)/pytest tests/browser -q

.PHONY: bench
bench: $(VENV)/.installed-test ## Benchmarks under bench/ (results in bench/results/)
	$(BIN)/python bench/run.py

.PHONY: format
format: $(VENV)/.installed-test ## Format and auto-fix the code
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

.PHONY: clean
clean: ## Remove .venv and caches (keeps ./var, the database)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache
