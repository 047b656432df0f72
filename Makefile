# motcua: `make run` starts the assistant, `make test` checks everything.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: run test lint typecheck contracts catalogue-check pytest bench chat clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

motcua.toml:
	cp config.example.toml motcua.toml

## The whole assistant on the embedded default (SQLite, bundled catalogue, web chat on :8080)
run: $(STAMP) motcua.toml
	$(BIN)/motcua migrate
	$(BIN)/motcua run

## Terminal chat over the same core
chat: $(STAMP) motcua.toml
	$(BIN)/motcua migrate
	$(BIN)/motcua chat

## Everything CI checks: style, types, architecture contracts, catalogue, tests
test: lint typecheck contracts catalogue-check pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

contracts: $(STAMP)
	$(BIN)/lint-imports

catalogue-check: $(STAMP)
	$(BIN)/motcua catalogue check

pytest: $(STAMP)
	$(BIN)/python -m pytest -q -rs

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
