# WhaTrack Coexistence Sync — `make run` and `make test` work on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# The Lambda runtime is python3.12: use it locally too (pyenv first, then PATH).
PY312 ?= $(shell PYENV_VERSION=3.12.1 pyenv which python3.12 2>/dev/null || command -v python3.12 2>/dev/null || command -v python3)
VENV := .venv
SAM_VENV := .venv-sam
PY := $(VENV)/bin/python
SAM := $(SAM_VENV)/bin/sam
PIP_QUIET := --quiet --disable-pip-version-check
# The browser tests drive Debian's chromium (Playwright's own browser download cannot work here).
CHROMIUM ?= /usr/bin/chromium
export CHROMIUM
export PYTHONPATH := $(CURDIR):$(CURDIR)/layers/domain
export SAM_CLI_TELEMETRY := 0
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help dev run test lint format typecheck unit integration e2e browser chromium screenshots infra build chaos load audit bench bench-check capacity deploy publish-dashboard clean openapi events demo demo-live reconcile replay redrive

help:
	@echo "make run    - start the local stack on 127.0.0.1:\$${PORT:-3000} (installs what it needs; META=simulator: with the Meta simulator)"
	@echo "make test   - lint, type check, unit, integration, local-stack e2e, browser and infra checks"
	@echo "make demo   - a whole onboarding replayed against the local stack, then the dashboard's address"
	@echo "make demo-live - the same, slowly, to watch it in the dashboard"
	@echo "make build  - sam build;  make deploy - sam deploy (samconfig.toml, ENV=dev|prod)"
	@echo "make reconcile [AFTER=s]  - one reconciler sweep on the running local stack (STACK_ENV=dev|prod: a deployed one)"
	@echo "make replay CONNECTION=<id> [FROM=<iso>] [TO=<iso>] [FAILED=1] - re-deliver a connection's archived (or failed) changes"
	@echo "make chaos [SEEDS=N] [RATE=r] - the chaos replay: an onboarding with and without faults, same end state"
	@echo "make load [REQUESTS=n] [SENDERS=n] - a bounded load on the local ingest (req/s, p50/p99, all archived)"
	@echo "make redrive [QUEUE=<dead-letter queue>] - move dead letters back to their source queues"
	@echo "make audit  - pip-audit of the shipped dependencies (needs PyPI's JSON API; not reachable here)"

$(VENV)/.installed: requirements/dev.txt layers/domain/requirements.txt
	@echo "==> creating $(VENV) with $(PY312)"
	@$(PY312) -m venv $(VENV)
	@$(VENV)/bin/pip install $(PIP_QUIET) --upgrade pip 2>&1 | { grep -v '^WARNING: Location' || true; }
	@$(VENV)/bin/pip install $(PIP_QUIET) -r requirements/dev.txt 2>&1 | { grep -v '^WARNING: Location' || true; }
	@touch $@

$(SAM_VENV)/.installed: requirements/sam.txt
	@echo "==> creating $(SAM_VENV) (aws-sam-cli pins its own boto3/pydantic)"
	@$(PY312) -m venv $(SAM_VENV)
	@$(SAM_VENV)/bin/pip install $(PIP_QUIET) --upgrade pip 2>&1 | { grep -v '^WARNING: Location' || true; }
	@$(SAM_VENV)/bin/pip install $(PIP_QUIET) -r requirements/sam.txt 2>&1 | { grep -v '^WARNING: Location' || true; }
	@touch $@

dev: $(VENV)/.installed $(SAM_VENV)/.installed

# META=simulator: with the Meta simulator (Graph answered locally, its webhooks posted back)
run: $(VENV)/.installed
	@META="$(META)" $(PY) -m devstack

test: lint typecheck unit integration e2e browser infra

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

unit: $(VENV)/.installed
	$(PY) -m pytest tests/unit -q

integration: $(VENV)/.installed
	$(PY) -m pytest tests/integration -q -n 2

e2e: $(VENV)/.installed
	$(PY) -m pytest tests/e2e -q -n 2

browser: $(VENV)/.installed chromium
	$(PY) -m pytest tests/browser -q

# The browser tests again, saving their screenshots into docs/screenshots (the README shows one).
screenshots: $(VENV)/.installed chromium
	@fc-list 2>/dev/null | grep -qi "color emoji" || { \
		echo "==> installing fonts-noto-color-emoji (the screenshots show emoji; the tests do not need it)"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get install -y -qq fonts-noto-color-emoji >/dev/null; }
	SCREENSHOT_DIR=$(CURDIR)/docs/screenshots $(PY) -m pytest tests/browser -q

# Installs Debian's chromium when it is missing (as root, or through sudo).
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "==> installing chromium with apt-get (the browser tests need it)"; \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi
	@test -x "$(CHROMIUM)" || { echo "chromium is not at $(CHROMIUM): install it or set CHROMIUM=/path/to/chromium"; exit 1; }

infra: $(VENV)/.installed $(SAM_VENV)/.installed
	$(SAM) validate --lint
	$(SAM_VENV)/bin/cfn-lint template.yaml
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH" $(SAM) build --parallel --cached
	test -d .aws-sam/build/DomainLayer/python/whatrack
	$(PY) -m pytest tests/infra -q

build: $(SAM_VENV)/.installed
	PATH="$(CURDIR)/$(SAM_VENV)/bin:$$PATH" $(SAM) build --parallel

deploy: build $(VENV)/.installed
	$(SAM) deploy --config-env $${ENV:-dev}
	$(MAKE) publish-dashboard

# Upload dashboard/ and the stack's config.json, invalidate CloudFront (alone: a dashboard-only change).
publish-dashboard: $(VENV)/.installed
	$(PY) scripts/publish_dashboard.py --config-env $${ENV:-dev}

demo: $(VENV)/.installed
	@$(PY) scripts/demo.py

# The same, 5 s between steps: open the dashboard at once and watch the card move.
demo-live: $(VENV)/.installed
	@$(PY) scripts/demo.py --slow

# Operator commands: the local stack of `make run` by default; STACK_ENV=dev|prod targets a deployed
# stack (samconfig.toml) with your AWS credentials.
STACK_TARGET = $(if $(STACK_ENV),--config-env $(STACK_ENV))

reconcile: $(VENV)/.installed
	@$(PY) scripts/reconcile.py $(STACK_TARGET) $(if $(AFTER),--after $(AFTER))

replay: $(VENV)/.installed
	@test -n "$(CONNECTION)" || { echo "usage: make replay CONNECTION=<id> [FROM=<iso>] [TO=<iso>] [FAILED=1]"; exit 2; }
	@$(PY) scripts/replay.py $(STACK_TARGET) --connection "$(CONNECTION)" $(if $(FROM),--from "$(FROM)") $(if $(TO),--to "$(TO)") $(if $(FAILED),--failed)

redrive: $(VENV)/.installed
	@$(PY) scripts/redrive.py $(STACK_TARGET) $(if $(QUEUE),--queue "$(QUEUE)")

openapi: $(VENV)/.installed
	$(PY) scripts/export_openapi.py

events: $(VENV)/.installed
	$(PY) scripts/make_events.py

# The benchmarks (docs/benchmarks.md) and issue 11's keys with targets: bench/results/latest.json and
# the table in docs/performance.md. Exit status 0 even when a target is missed (a FAIL table says so);
# `make bench-check` exits non-zero then. BENCH_ARGS=--keys-only skips the older benchmarks.
chaos: $(VENV)/.installed
	@$(PY) scripts/chaos.py --seeds $(or $(SEEDS),5) $(if $(RATE),--rate $(RATE))

load: $(VENV)/.installed
	@PYTHONPATH=.:layers/domain $(PY) -m tests.chaos.load --requests $(or $(REQUESTS),600) --senders $(or $(SENDERS),8)

bench: $(VENV)/.installed
	$(PY) -m benchmarks $(BENCH_ARGS)

bench-check: $(VENV)/.installed
	$(PY) -m benchmarks --check $(BENCH_ARGS)

# Capacity for 1,000 onboardings an hour from bench/results/latest.json (docs/capacity.md).
capacity: $(VENV)/.installed
	$(PY) -m benchmarks.capacity

# pip-audit of what ships (the domain layer's pins); --strict fails when a package cannot be
# audited, so a machine without PyPI's JSON API or OSV fails loudly instead of passing silently.
AUDIT_VENV := .venv-audit
audit:
	@test -x $(AUDIT_VENV)/bin/pip-audit || { $(PY312) -m venv $(AUDIT_VENV) && $(AUDIT_VENV)/bin/pip install $(PIP_QUIET) pip-audit==2.10.1; }
	$(AUDIT_VENV)/bin/pip-audit --strict --no-deps --disable-pip -r layers/domain/requirements.txt

clean:
	rm -rf $(VENV) $(SAM_VENV) $(AUDIT_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
