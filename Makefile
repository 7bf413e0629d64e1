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
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the package's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $@ $(VENV)/.installed

.PHONY: install
install: $(VENV)/.installed ## Create .venv and install Panjereh

.PHONY: run
run: $(VENV)/.installed ## Create the embedded database, seed the demo government and serve on :8000
	$(BIN)/panjereh db upgrade
	$(BIN)/panjereh demo
	$(BIN)/panjereh serve

.PHONY: lint
lint: $(VENV)/.installed-test ## ruff, mypy --strict and the import-linter contracts
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

.PHONY: test
test: lint ## Lint, then the whole test suite (PostgreSQL tests need PANJEREH_TEST_POSTGRES_URL)
	$(BIN)/pytest

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
