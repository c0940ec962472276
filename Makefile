# Atiende. `make run` and `make test` work on a fresh machine with Python 3.11+ and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
ATIENDE_DATA_DIR ?= $(CURDIR)/var
# Exported to run/serve only: `make test` must not hand ./var to the suite (tests/backends.py
# gives every run a fresh temporary data dir unless ATIENDE_DATA_DIR is already set).
run serve: export PORT := $(PORT)
run serve: export ATIENDE_DATA_DIR := $(ATIENDE_DATA_DIR)

.PHONY: run serve test scale-test lint check venv lock messages bench clean

venv: $(STAMP)

# Re-installs whenever the lock file or the project's metadata change.
$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# A venv made by `uv venv` has no pip: bootstrap it from the standard library.
	$(BIN)/python -m pip --version >/dev/null 2>&1 || $(BIN)/python -m ensurepip --upgrade
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

# Demo mode: migrate, load the demo data (once), and serve under gunicorn with the worker.
run: venv
	ATIENDE_DEMO=1 $(BIN)/atiende migrate --noinput
	ATIENDE_DEMO=1 $(BIN)/atiende createcachetable
	ATIENDE_DEMO=1 $(BIN)/atiende demo
	ATIENDE_DEMO=1 $(BIN)/atiende collectstatic --noinput --verbosity 0
	ATIENDE_DEMO=1 $(MAKE) --no-print-directory serve

# The production-style server and the background worker side by side; Ctrl-C stops both.
serve:
	@echo "Atiende: http://127.0.0.1:$(PORT)  (demo mailbox: http://127.0.0.1:$(PORT)/demo/correo/)"
	$(BIN)/atiende worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn atiende.wsgi:application --bind 127.0.0.1:$(PORT) --workers 2 \
	  --access-logfile - --graceful-timeout 5

# bench/ only once it exists (git keeps no empty folder, so a fresh clone may lack it).
LINT_PATHS := src tests scale $(wildcard bench)

test: venv lint check
	$(BIN)/pytest -n 2
	$(BIN)/pytest -n 2 --backend=postgres -m "not e2e"

# Several machines shown running: two app servers and two workers on loopback sharing one
# PostgreSQL, Redis and S3 (moto), driven for SCALE_SECONDS by customers and agents, then
# checked (nothing lost or duplicated, mail sent once, due tickets closed once, presence
# across servers). A verdict table; non-zero on any failure. README, "Several machines".
SCALE_SECONDS ?= 45

scale-test: venv
	SCALE_SECONDS=$(SCALE_SECONDS) $(BIN)/python scale/run.py

lint: venv
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy src

# Fails when a model change has no migration.
check: venv
	d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && \
	  ATIENDE_DATA_DIR="$$d" $(BIN)/atiende makemigrations --check --dry-run

lock:
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --python-version 3.11 \
	  -o requirements.lock

# Extract the strings of our code into the Spanish catalogue (run from the package, so only
# src/atiende is scanned), then compile it. New strings come out untranslated: translate them
# in src/atiende/locale/es/LC_MESSAGES/django.po and run `make messages` again.
messages: venv
	cd src/atiende && ATIENDE_DATA_DIR=$$(mktemp -d) DJANGO_SETTINGS_MODULE=atiende.settings \
	  PYTHONPATH=$(CURDIR)/src $(CURDIR)/$(BIN)/python -m django makemessages -l es \
	  --no-obsolete --ignore 'static/*'
	cd src/atiende && ATIENDE_DATA_DIR=$$(mktemp -d) DJANGO_SETTINGS_MODULE=atiende.settings \
	  PYTHONPATH=$(CURDIR)/src $(CURDIR)/$(BIN)/python -m django compilemessages -l es

# Benchmarks, never run by the tests: the auto-close sweep over 100 000 tickets, the outbox
# into a local SMTP server, e-mail ingest (pipe, in-process, IMAP; memory of a 20 MB
# message), and the REST API under gunicorn (tickets created per second; p50/p99 of the
# first and the 1000th page of the list at 100 000 tickets), on SQLite and on a throw-away
# PostgreSQL (BENCH_POSTGRES=URL for a server of yours; BENCH_POSTGRES= for SQLite only).
# Tables (and pages.png): test-artifacts/bench/. BENCH_SIZES=10000,100000 for a shorter run of
# bench/pages.py (default: 10000,100000,1000000).
BENCH_POSTGRES ?= auto

bench: venv
	$(BIN)/python bench/outbox_and_sweep.py $(if $(BENCH_POSTGRES),--postgres $(BENCH_POSTGRES))
	$(BIN)/python bench/ingest.py $(if $(BENCH_POSTGRES),--postgres $(BENCH_POSTGRES))
	$(BIN)/python bench/api.py $(if $(BENCH_POSTGRES),--postgres $(BENCH_POSTGRES))
	$(BIN)/python bench/pages.py $(if $(BENCH_POSTGRES),--postgres $(BENCH_POSTGRES)) \
	  $(if $(BENCH_SIZES),--sizes $(BENCH_SIZES))

clean:
	rm -rf $(VENV) test-artifacts .mypy_cache .ruff_cache .pytest_cache build src/*.egg-info
	find src tests bench scale -name __pycache__ -type d -prune -exec rm -rf {} + 2>/dev/null || true
