# Every target creates or reuses .venv and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED_SPECS ?= ../shared/specs
export SEVERA_SANDBOX_SPECS ?= $(SHARED_SPECS)

.PHONY: venv demo test test-all lint type fmt bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/severa-sandbox demo

CHROMIUM ?= /usr/bin/chromium
export SEVERA_SANDBOX_CHROMIUM ?= $(CHROMIUM)
BROWSER_NOTE = @test -x $(CHROMIUM) || echo "note: $(CHROMIUM) is missing, so the browser tests (tests/browser) are skipped; install it with: sudo apt-get install -y chromium"

test: $(STAMP)
	$(BROWSER_NOTE)
	$(BIN)/python -m pytest -n 2 -m "not slow" -q

test-all: $(STAMP)
	$(BROWSER_NOTE)
	$(BIN)/python -m pytest -n 2 -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check simulators bridge sandbox scenarios
	$(BIN)/mypy

type: $(STAMP)
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff format simulators bridge sandbox scenarios tests contract_tests bench
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
