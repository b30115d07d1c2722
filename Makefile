# Two commands on a fresh machine: `make demo` runs Planwatch on its embedded sample feeds,
# `make test` runs the whole test suite. Both build ./.venv first (Python 3.11+ needed).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: demo test lint bench clean

$(BIN)/planwatch: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

demo: $(BIN)/planwatch
	$(BIN)/planwatch demo

test: $(BIN)/planwatch
	$(BIN)/python -m pytest -q
	$(BIN)/ruff check .
	$(BIN)/mypy

lint: $(BIN)/planwatch
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(BIN)/planwatch
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) planwatch-demo.db* outbox
