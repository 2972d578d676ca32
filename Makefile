# RepReady developer commands. `make run` and `make test` work from a fresh clone.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3.13
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
BASE_STAMP := $(VENV)/.installed-base
DEV_STAMP := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench
PIP_INSTALL := $(BIN)/pip install --quiet --disable-pip-version-check --require-hashes
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: help run test lint format lock clean bench fuzz

help:  ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-8s %s\n", $$1, $$2}'

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 13), sys.version' 2>/dev/null \
	  || { echo "RepReady needs Python 3.13 as '$(PYTHON)' (see .python-version; with pyenv: pyenv install 3.13)."; exit 1; }
	$(PYTHON) -m venv $(VENV)

# django-celery-beat is installed without its dependencies: see requirements/nodeps.txt.
$(BASE_STAMP): requirements/base.txt requirements/nodeps.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements/base.txt
	$(PIP_INSTALL) --no-deps -r requirements/nodeps.txt
	@touch $@

$(DEV_STAMP): requirements/dev.txt requirements/nodeps.txt | $(BIN)/python
	$(PIP_INSTALL) -r requirements/dev.txt
	$(PIP_INSTALL) --no-deps -r requirements/nodeps.txt
	@touch $@ $(BASE_STAMP)

# The bench's load tool (locust) on top of the dev install, pinned against it.
$(BENCH_STAMP): requirements/bench.txt $(DEV_STAMP)
	$(PIP_INSTALL) -r requirements/bench.txt
	@touch $@

run: $(BASE_STAMP)  ## Install, migrate, seed the demo and serve it on http://127.0.0.1:8000
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo
	@if [ -n "$$REDIS_URL" ]; then \
	  echo "REDIS_URL is set: starting a Celery worker with beat beside the web server."; \
	  $(BIN)/celery -A config.celery worker --beat --loglevel INFO & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(MANAGE) runserver $(HOST):$(PORT); \
	else \
	  $(MANAGE) runserver $(HOST):$(PORT); \
	fi

test: $(DEV_STAMP)  ## Install what tests need and run the whole suite
	$(BIN)/python -m pytest -n auto $(PYTEST_ARGS)

bench: $(BENCH_STAMP)  ## Every bench (level 1, 2,000-rep exam burst, tiers, 100,000-rep organisation), one table (bench/README.md)
	$(BIN)/python bench/all.py --level1-args "$(BENCH_ARGS)" --burst-args "$(BURST_BENCH_ARGS)" \
	  --tiers-args "$(TIERS_BENCH_ARGS)" --readiness-args "$(READINESS_BENCH_ARGS)"

fuzz: $(DEV_STAMP)  ## Fuzz the API with schemathesis on gunicorn (DATABASE_URL: a PostgreSQL of its own; REDIS_URL)
	$(BIN)/python tests/fuzz/fuzz_api.py $(FUZZ_ARGS)

lint: $(DEV_STAMP)  ## ruff, mypy and the import layers
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(DEV_STAMP)  ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock: | $(BIN)/python  ## Re-pin requirements/*.txt from pyproject.toml (no URLs written)
	$(BIN)/pip install --quiet pip-tools
	# Options (hashes, and no index or find-links lines) are in pyproject's [tool.pip-tools].
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile -o requirements/base.txt pyproject.toml
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --extra dev -c requirements/base.txt \
	  -o requirements/dev.txt pyproject.toml
	CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/pip-compile --extra bench -c requirements/dev.txt \
	  -o requirements/bench.txt pyproject.toml

clean:  ## Remove the virtual environment, the SQLite database and collected files
	rm -rf $(VENV) db.sqlite3 staticfiles .mypy_cache .ruff_cache
