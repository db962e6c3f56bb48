# Partnership Registry: the front door. `make` lists the targets.
#
# With DATABASE_URL unset, every manage.py command uses the embedded PostgreSQL server in .pgdata
# (started on first use, kept running between commands; `make dbstop` stops it).

PYTHON ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV ?= .venv
PYTEST_ARGS ?=

BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
STAMP := $(VENV)/.installed
PGDATA_DIR := .pgdata

.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
.PHONY: help install run test lint fmt superuser migrations dbstop dbreset clean bench

help: ## List the targets
	@echo "Partnership Registry. Usage: make <target>"
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-z][a-z-]*:.*## / {printf "  %-11s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "Variables: PYTHON=$(PYTHON) VENV=$(VENV) PYTEST_ARGS='$(PYTEST_ARGS)'"
	@echo "Without DATABASE_URL the database is an embedded PostgreSQL server in $(PGDATA_DIR)/."

install: $(STAMP) ## Create the virtualenv and install requirements-dev.txt (again when requirements change)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

# Developer commands run with DEBUG on (no secret key needed) unless the environment says otherwise.
run: export DJANGO_DEBUG = true
superuser migrations dbstop dbreset: export DJANGO_DEBUG ?= true

run: install ## Migrate, load the shipped data and serve on http://127.0.0.1:8000 (DEBUG on)
	$(MANAGE) migrate --noinput
	$(MANAGE) createcachetable
	$(MANAGE) load_shipped_data
	$(MANAGE) collectstatic --noinput --verbosity 0
	@echo
	@echo 'Registry on http://127.0.0.1:8000 — admin at /admin/ — create an editor account with `make superuser`'
	@echo
	$(MANAGE) runserver 127.0.0.1:8000

test: install ## Check for missing migrations, then run the test suite (PYTEST_ARGS='...' passes options)
	DJANGO_SETTINGS_MODULE=registry.settings_test $(MANAGE) makemigrations --check --dry-run
	@$(BIN)/pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests; that counts as a failure" >&2; fi; \
	exit $$status

# mypy's Django plugin imports the settings: REGISTRY_NO_DEVDB keeps that from starting the server.
lint: export REGISTRY_NO_DEVDB = 1
lint: install ## ruff check, ruff format --check, mypy (all three run; fails if any fails)
	@status=0; \
	echo "$(BIN)/ruff check ."; $(BIN)/ruff check . || status=1; \
	echo "$(BIN)/ruff format --check ."; $(BIN)/ruff format --check . || status=1; \
	echo "$(BIN)/mypy ."; $(BIN)/mypy . || status=1; \
	exit $$status

fmt: install ## Format the code and apply ruff's safe fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# SIZE partnerships of synthetic data in the database DATABASE_URL names (required: its synthetic data is
# replaced), gunicorn with DEBUG off, wrk over loopback. Needs wrk (apt-get install -y wrk). See bench/README.md.
SIZE ?= 10000
BENCH_ARGS ?=
bench: install ## API benchmark: make bench SIZE=10000 DATABASE_URL=... (writes bench/results/api-SIZE.json)
	$(BIN)/python bench/api_bench.py --partnerships $(SIZE) $(BENCH_ARGS)

superuser: install ## Create an editor (superuser) account
	$(MANAGE) createsuperuser

migrations: install ## Write migrations for model changes
	$(MANAGE) makemigrations

dbstop: ## Stop the embedded PostgreSQL server (keeps the data)
	@if [ -x $(BIN)/python ]; then \
		REGISTRY_NO_DEVDB=1 $(MANAGE) devdb stop; \
	elif [ -e $(PGDATA_DIR)/postmaster.pid ]; then \
		echo "make dbstop: no $(VENV) to run the command; run make install first" >&2; exit 1; \
	else \
		echo "No embedded PostgreSQL server running (no $(VENV))."; \
	fi

dbreset: dbstop ## Stop the embedded server and delete the development database
	rm -rf $(PGDATA_DIR)

clean: ## Stop the embedded server, remove the virtualenv and caches (keeps the database)
	-@$(MAKE) --no-print-directory dbstop
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache htmlcov .coverage
	find . -path ./$(PGDATA_DIR) -prune -o -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
