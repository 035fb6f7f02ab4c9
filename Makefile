# The two commands that matter: `make run` (the whole platform) and `make test`
# (the whole suite). Everything installs itself on first use.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Use the active virtual environment if there is one, else ./.venv (created on demand).
ifdef VIRTUAL_ENV
VENV := $(VIRTUAL_ENV)
else
VENV := .venv
endif
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PACKAGES := -e libs/safeguarding-kit -e services/referral-api -e services/risk-api \
            -e services/meetings-api -e gateway -e tools/devstack
SOURCES := libs services gateway tools tests bench conftest.py
DATA_DIR ?= data

AGENCY ?= sheffield-social-care
TYPE ?= social_care
ROLES ?= practitioner

.PHONY: help install run token import test test-fast test-postgres fuzz lint imports typecheck check openapi bench faults clean

help:
	@echo "make run      start the whole platform on SQLite with demo data; prints a dev token"
	@echo "              REPLICAS=2 POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/postgres make run: two of every process"
	@echo "              (add RELAYS=separate: each service's outbox relay a process of its own, as on Kubernetes)"
	@echo "make test     run the whole test suite (PostgreSQL too when TEST_DATABASE_URL is set)"
	@echo "make test-fast  everything but the end-to-end suites that start the real processes"
	@echo "make token AGENCY=<slug> TYPE=<agency type> ROLES=<a,b>   print a dev token"
	@echo "make import FILE=<tracker.csv>   load a spreadsheet tracker's referrals (GATEWAY_URL, TOKEN)"
	@echo "make check    ruff, import contracts and mypy;  make openapi  regenerate openapi/*.json;  make bench;  make fuzz"
	@echo "make faults   referrals under load while a service and PostgreSQL are stopped and started"
	@echo "make lock     regenerate requirements*.lock (UPGRADE=\"<package> ...\" or UPGRADE=all to move pins)"

$(PY):
	@python3 -m venv $(VENV)

$(STAMP): $(PY) requirements.lock libs/*/pyproject.toml services/*/pyproject.toml gateway/pyproject.toml tools/*/pyproject.toml
	@echo "Installing packages into $(VENV) from requirements.lock (log: $(VENV)/install.log)..." >&2
	@{ $(PY) -m pip install --require-hashes -r requirements.lock && \
	   $(PY) -m pip install --no-deps --no-build-isolation $(PACKAGES) && \
	   $(PY) -m pip check; } >$(VENV)/install.log 2>&1 \
	 || { cat $(VENV)/install.log >&2; \
	      echo "If a dependency is missing or too old, a pyproject.toml or requirements-dev.txt changed: run make lock" >&2; \
	      exit 1; }
	@touch $(STAMP)

install: $(STAMP)

# requirements.lock pins every third-party package `make install` puts in (the local packages'
# dependencies, requirements-dev.txt, requirements-build.txt) with its hashes, for Python 3.11+ on
# every platform; requirements-runtime.lock is its subset the four processes need, for the
# Dockerfiles. Pins that still fit are kept: UPGRADE="<package> ..." moves those, UPGRADE=all every one.
LOCK_PACKAGES = $(filter-out -e,$(PACKAGES))
RUNTIME_PACKAGES = $(filter libs/safeguarding-kit services/% gateway,$(LOCK_PACKAGES))
LOCAL_NAMES = $(shell sed -n 's/^name = "\(.*\)"$$/\1/p' $(addsuffix /pyproject.toml,$(LOCK_PACKAGES)))
UV_COMPILE = $(VENV)/bin/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command "make lock" $(addprefix --no-emit-package ,$(LOCAL_NAMES)) \
	$(if $(filter all,$(UPGRADE)),--upgrade,$(addprefix --upgrade-package ,$(UPGRADE)))

# uv itself comes from the current lock, checked against its hashes like everything else.
.PHONY: lock
lock: $(PY)
	@$(PY) -m pip install --quiet --require-hashes -r requirements.lock
	printf -- '-e %s\n' $(LOCK_PACKAGES) | \
	  $(UV_COMPILE) - requirements-dev.txt requirements-build.txt -o requirements.lock
	printf -- '-e %s\n' $(RUNTIME_PACKAGES) | \
	  $(UV_COMPILE) -c requirements.lock - requirements-build.txt -o requirements-runtime.lock

# REPLICAS=2 runs two of every process (services and gateways), which share PostgreSQL
# (POSTGRES_URL, a server: one database per service is made there) and Redis (REDIS_URL).
# RELAYS=separate runs each service's outbox relay as a process of its own (PostgreSQL only).
REPLICAS ?= 1
run: $(STAMP)
	@$(PY) -m devstack run --data-dir $(DATA_DIR) --replicas $(REPLICAS) \
	  $(if $(POSTGRES_URL),--postgres-url "$(POSTGRES_URL)") $(if $(REDIS_URL),--redis-url "$(REDIS_URL)") \
	  $(if $(filter separate,$(RELAYS)),--separate-relays)

token: $(STAMP)
	@$(PY) -m devstack token --data-dir $(DATA_DIR) --agency "$(AGENCY)" --type "$(TYPE)" --roles "$(ROLES)"

# A spreadsheet tracker (CSV, one row per referral) loaded through POST /api/v1/referrals/migrated:
# every row checked first, nothing loaded if any is bad. GATEWAY_URL defaults to `make run`'s,
# TOKEN (from the environment) to a dev token of the demo agreement's data administrator.
import: $(STAMP)
	@test -n "$(FILE)" || { echo "usage: make import FILE=tracker.csv [GATEWAY_URL=...] (TOKEN in the environment)" >&2; exit 2; }
	@$(PY) -m devstack.tracker_import "$(FILE)" --data-dir $(DATA_DIR) $(if $(GATEWAY_URL),--gateway-url "$(GATEWAY_URL)")

test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The quick loop while working: every test that needs no running processes (e2e ones
# start the whole stack; `make test` and CI run them too).
test-fast: $(STAMP)
	$(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)

test-postgres: $(STAMP)
	TEST_DATABASE_URL=$${TEST_DATABASE_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/postgres} $(PY) -m pytest $(PYTEST_ARGS)

# A longer fuzzing run than `make test` makes: many examples per operation, a fresh seed
# each time (FUZZ_SEED=<n> replays one).
FUZZ_EXAMPLES ?= 200
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(PY) -m pytest tests/fuzz $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check $(SOURCES)
	$(PY) -m ruff format --check $(SOURCES)

typecheck: $(STAMP)
	$(PY) -m mypy libs/safeguarding-kit/src services/referral-api/src services/risk-api/src services/meetings-api/src gateway/src tools/devstack/src

# The import contracts of pyproject.toml's [tool.importlinter]: the kit imports no process
# or tool, services never import each other, the gateway imports no service.
imports: $(STAMP)
	$(VENV)/bin/lint-imports

check: lint imports typecheck

openapi: $(STAMP)
	$(PY) -m devstack.openapi_export openapi

bench: $(STAMP)
	@command -v wrk >/dev/null || apt-get install -y -q wrk >/dev/null
	$(PY) bench/gateway.py
	$(PY) bench/risk_rescoring.py
	$(PY) bench/stats.py
	$(PY) bench/referrals.py
	$(PY) bench/reads.py

# Referrals posted through the gateway while the referral service and PostgreSQL (a cluster
# of the script's own) are stopped and started; fails if any referral is lost or doubled.
faults: $(STAMP)
	$(PY) bench/faults_under_load.py

clean:
	rm -rf $(DATA_DIR) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache
