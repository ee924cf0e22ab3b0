# Vaidya: `make run` starts the app with a demo clinic; `make test` runs the whole test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
SIMULATOR_PORT ?= 8025
# Links and the documents' verification QR point at the address `make run` serves on, unless
# SITE_URL is set (a wildcard HOST is reached on loopback).
export LOCAL_SITE_URL = http://$(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST)):$(PORT)

.PHONY: run test install messages lint format lock check-deploy clean-data

$(BIN)/.installed: requirements/lock.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Vaidya needs Python 3.11 or newer (found " + sys.version.split()[0] + ").")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV) || { echo "Could not create a virtual environment: install python3-venv (Debian/Ubuntu: apt-get install python3-venv)."; exit 1; }
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements/lock.txt
	@touch $@

# The translation catalogues (locale/<lang>/LC_MESSAGES/django.po) compiled to the .mo files
# Django reads; .mo files are build output, never committed. msgfmt comes with GNU gettext
# (Debian/Ubuntu: apt-get install gettext).
MO_FILES := $(patsubst %.po,%.mo,$(wildcard locale/*/LC_MESSAGES/django.po))

locale/%/LC_MESSAGES/django.mo: locale/%/LC_MESSAGES/django.po
	@command -v msgfmt >/dev/null || { echo "msgfmt is missing: install gettext (Debian/Ubuntu: apt-get install gettext)."; exit 1; }
	msgfmt --check --output-file=$@ $<

messages: $(MO_FILES)

install: $(BIN)/.installed messages

## Start Vaidya on the embedded default (SQLite, ORM task broker, local files) with a demo clinic.
## The screen keeps to the address, the demo sign-ins and the WhatsApp simulator's page (and any
## problem); the workers and the simulator write to logs in the data folder (data/logs/).
run: install
	@$(PY) manage.py check_system --verbosity 0
	@$(PY) manage.py migrate --noinput --verbosity 0
	@$(PY) manage.py sync_schedules >/dev/null
	@LOG_LEVEL=WARNING $(PY) manage.py seed_demo --if-missing --verbosity 0
	@$(PY) manage.py run_local --host $(HOST) --port $(PORT) --simulator-port $(SIMULATOR_PORT)

## Run the whole test suite (SQLite by default; set DATABASE_URL for PostgreSQL). First the same
## system check as `make run`: the suite turns warnings into errors, so a warning from WeasyPrint
## (HarfBuzz's subsetter missing) stops here with the apt-get line to run.
test: install
	@$(PY) manage.py check_system --verbosity 0 --warnings-are-errors
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Refresh the pinned lock file after changing dependencies in pyproject.toml.
lock: install
	$(BIN)/pip-compile --quiet --extra dev --generate-hashes --strip-extras --allow-unsafe --upgrade -o requirements/lock.txt pyproject.toml

## Check this installation's own production configuration (the environment and .env, as the
## app reads them; nothing substituted, no key written): names each missing or unsafe setting.
check-deploy: install
	@$(PY) manage.py check_deploy
