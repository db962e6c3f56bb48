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
.PHONY: help install run serve test lint fmt superuser migrations dbstop dbreset clean bench

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

# Production mode on this machine: DEBUG off, gunicorn with the shipped gunicorn.conf.py (GUNICORN_BIND, default
# 127.0.0.1:8000), static files from collectstatic served by whitenoise, JSON logs, the 20 s statement timeout.
# Plain HTTP on loopback, so no redirect to HTTPS (and no HSTS, which is only sent over HTTPS); cookies stay Secure,
# which browsers accept on localhost. Without DJANGO_SECRET_KEY, a random key is made for this run only (nothing is
# written to disk; logins end when the server stops).
serve: export DJANGO_DEBUG = false
serve: export DJANGO_SECURE_SSL_REDIRECT = false
serve: export DJANGO_ALLOWED_HOSTS ?= 127.0.0.1,localhost
serve: install ## Production mode locally: migrate, collectstatic, gunicorn on http://127.0.0.1:8000 (DEBUG off)
	@if [ -z "$$DJANGO_SECRET_KEY" ]; then echo "make serve: DJANGO_SECRET_KEY is not set: a random key for this run"; fi; \
	DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')}"; \
	export DJANGO_SECRET_KEY; set -e; \
	$(MANAGE) migrate --noinput; \
	$(MANAGE) createcachetable; \
	$(MANAGE) load_shipped_data; \
	$(MANAGE) collectstatic --noinput --verbosity 0; \
	echo "Registry in production mode on http://$${GUNICORN_BIND:-127.0.0.1:8000} (health: /healthz)"; \
	exec $(BIN)/gunicorn -c gunicorn.conf.py

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

# SIZE partnerships (10k, 100k or 1m) of synthetic data, gunicorn with the shipped gunicorn.conf.py and production
# settings, wrk over loopback, and the raw baseline beside it. The database is DATABASE_URL if set (its synthetic data
# is replaced), else `registry_bench` on the embedded server. wrk and curl come from Debian's packages: installed here
# when missing and we may (root), else the command says how. See bench/README.md.
SIZE ?= 10k
BENCH_ARGS ?=
bench: install ## Benchmark against raw baselines: make bench SIZE=10k|100k|1m (writes bench/results/bench-SIZE.json)
	@for tool in wrk curl; do command -v $$tool >/dev/null 2>&1 && continue; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing $$tool (apt-get)"; apt-get install -y -qq $$tool >/dev/null || exit 1; \
	else echo "make bench needs $$tool: sudo apt-get install -y $$tool" >&2; exit 1; fi; done
	$(BIN)/python bench/api_bench.py --size $(SIZE) $(BENCH_ARGS)

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
