# Streamwise: `make demo` runs the whole loop on the sample business; `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# A CPU build of torch (for the [text] extra) is taken from here when the folder exists, so pip
# never downloads a multi-gigabyte CUDA build.
TORCH_WHEELS ?= /opt/wheels
TORCH_VERSION ?= 2.13.0
FIND_LINKS := $(if $(wildcard $(TORCH_WHEELS)),--find-links $(TORCH_WHEELS),)
PIP := $(BIN)/python -m pip --disable-pip-version-check

.PHONY: demo test lint format docs bench clean help

help:
	@echo "make demo   - create .venv, install Streamwise and run the demo on the sample business"
	@echo "make test   - install everything ([all,dev]) and run lint and the whole test suite"
	@echo "make lint   - ruff check and format check"
	@echo "make docs   - regenerate docs/data.md and docs/cli.md from the code"
	@echo "make bench  - run the benchmarks (slow)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.demo-installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e ".[bayes]"
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(BIN)/python
	$(PIP) install --quiet $(FIND_LINKS) "torch==$(TORCH_VERSION)"
	$(PIP) install --quiet $(FIND_LINKS) -e ".[all,dev]"
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(BIN)/streamwise demo

test: $(VENV)/.test-installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/pytest

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(VENV)/.test-installed
	$(BIN)/ruff check --fix src tests benchmarks
	$(BIN)/ruff format src tests benchmarks

docs: $(VENV)/.demo-installed
	$(BIN)/python -m streamwise.cli.docs data > docs/data.md
	$(BIN)/python -m streamwise.cli.docs cli > docs/cli.md

bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/import_orders.py

clean:
	rm -rf $(VENV) streamwise-demo .pytest_cache .ruff_cache
