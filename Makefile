# The verbs people use. `make run` and `make test` work on a fresh machine with Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANAGE := $(BIN)/python manage.py
# The settings default to production (DEBUG off, HTTPS only, a secret key required); these
# verbs are a developer's, so they ask for development unless told otherwise.
export DJANGO_DEBUG ?= true

.PHONY: run test lint format worker train bench check-worker deploy-check setup clean

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

## setup: virtualenv, dependencies, database, demo users and applicants, a production model
## for every scorecard (trained only if none exists yet)
setup: $(STAMP)
	$(MANAGE) migrate --noinput
	$(MANAGE) setup_demo
	$(MANAGE) ensure_models

## run: set everything up, then the portal on http://127.0.0.1:8000/ and a Celery worker
run: setup
	$(BIN)/honcho --procfile Procfile.dev --env /dev/null start  # the settings read .env

## test: the whole suite (pytest); CI runs it twice, on the defaults and on PostgreSQL + Redis
test: $(STAMP)
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

worker: $(STAMP)
	$(BIN)/celery -A creditportal worker --loglevel INFO

## train: retrain a scorecard with the hyperparameter search and register a candidate, e.g.
##   make train SCORECARD=card_default            (the public extract)
##   make train SCORECARD=card_default DATA=my.csv (a lender's own file)
train: $(STAMP)
	$(MANAGE) migrate --noinput
	$(MANAGE) train_model --scorecard $(SCORECARD) $(if $(DATA),--data $(DATA))

## deploy-check: migrations match the models, and Django's deployment checks pass without a
## single warning under production settings (CI runs it)
deploy-check: $(STAMP)
	$(MANAGE) makemigrations --check --dry-run
	DJANGO_DEBUG=false DJANGO_ALLOWED_HOSTS=credit.example.com \
	DJANGO_SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
	CREDITPORTAL_FIELD_ENCRYPTION_KEYS="$$($(BIN)/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')" \
	$(MANAGE) check --deploy --fail-level WARNING

check-worker: $(STAMP)
	$(MANAGE) check_worker

## bench: every benchmark; BASELINE=<git revision> measures that revision beside this tree
bench: $(STAMP)
	$(BIN)/python bench/run_all.py $(if $(BASELINE),--baseline $(BASELINE))

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
