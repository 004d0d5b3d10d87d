# The developer interface: `make demo` and `make test` are the README's quick start.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
DEMO_DB ?= sqlite:///demo.db
export FIBERDESK_DATABASE_URL ?= $(DEMO_DB)

.PHONY: demo test setup check lint typecheck unit bench clean

$(BIN)/fiberdesk: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

setup: $(BIN)/fiberdesk

## Build the demo operator on the embedded SQLite database and serve it on :8000
demo: setup
	$(BIN)/fiberdesk db upgrade
	$(BIN)/fiberdesk demo --force
	$(BIN)/fiberdesk serve

## Lint, type-check and run every test (SQLite and PostgreSQL)
test: setup lint typecheck
	$(BIN)/pytest -q -n 2 --dist loadfile

lint: setup
	$(BIN)/ruff check src tests $(wildcard bench)
	$(BIN)/ruff format --check src tests $(wildcard bench)

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -q tests/unit

clean:
	rm -rf $(VENV) demo.db demo.db-wal demo.db-shm .pytest_cache .mypy_cache .ruff_cache
