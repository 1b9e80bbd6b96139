# streamcensus task runner. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	@$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	@$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

.PHONY: install
install: $(STAMP) ## Create .venv and install the pinned dependencies

# Browser tests drive Debian's Chromium (Playwright cannot download a browser here).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	@if [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "browser tests need Debian's chromium: run 'sudo apt-get install chromium'"; exit 1; \
	fi

.PHONY: browser
browser: $(CHROMIUM) ## Install Debian's chromium for the browser tests (needs root)

# The metrics tests check the exposition and the alert rules with Debian's promtool
# (package `prometheus`).
PROMTOOL := /usr/bin/promtool
$(PROMTOOL):
	@if [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's prometheus (promtool) for the metrics tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	else \
		echo "metrics tests need Debian's promtool: run 'sudo apt-get install prometheus'"; exit 1; \
	fi

.PHONY: promtool
promtool: $(PROMTOOL) ## Install Debian's promtool for the metrics tests (needs root)

# The Spark engine's tests run Spark local on Debian's Java 17 runtime (pyspark comes from PyPI).
.PHONY: java
java: ## Install Debian's Java 17 runtime for the Spark tests (needs root)
	@if command -v java >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
		echo "installing Debian's openjdk-17-jre-headless for the Spark tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	else \
		echo "the Spark tests need Java 17: run 'sudo apt-get install openjdk-17-jre-headless'"; \
		if [ "$$CI" = true ]; then exit 1; fi; \
	fi

# The third-party JavaScript client test (@twurple/api in its mock mode) needs Node 20 and npm;
# `npm ci` installs the versions pinned in tests/js/package-lock.json.
JS_DIR := tests/js
JS_STAMP := $(JS_DIR)/node_modules/.installed
$(JS_STAMP): $(JS_DIR)/package.json $(JS_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		cd $(JS_DIR) && npm ci --no-audit --no-fund --loglevel=error && touch node_modules/.installed; \
	else \
		echo "the JavaScript client test needs Node 20 and npm: install them (e.g. from nodejs.org)"; \
		if [ "$$CI" = true ]; then exit 1; fi; \
	fi

.PHONY: js
js: $(JS_STAMP) ## Install the JavaScript client used by the tests (npm ci in tests/js)

.PHONY: lock
lock: $(STAMP) ## Re-resolve requirements.lock from pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 -o requirements.lock

.PHONY: demo
demo: $(STAMP) ## Set up and run the demo on the embedded defaults
	$(BIN)/streamcensus demo $(DEMO_ARGS)

.PHONY: lint
lint: $(STAMP) ## ruff (lint + format check) and mypy
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy

.PHONY: fmt
fmt: $(STAMP) ## Format the code
	$(BIN)/ruff format src tests
	$(BIN)/ruff check --fix src tests

.PHONY: test
test: $(STAMP) $(CHROMIUM) $(PROMTOOL) $(JS_STAMP) java lint ## Set up, lint, and run the whole test suite
	$(BIN)/pytest $(PYTEST_ARGS)

.PHONY: bench
bench: $(STAMP) ## Run the benchmarks (see BENCHMARKS.md)
	$(BIN)/streamcensus bench $(BENCH_ARGS)

.PHONY: clean
clean: ## Remove the environment and caches
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
