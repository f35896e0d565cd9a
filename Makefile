# `make` builds the environment on first use and runs the pipeline; `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CORES  ?= all
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: all run setup test lint lock simulate clean-results
all: run

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "error: Python >= 3.11 is needed (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@touch $@

run: setup
	$(BIN)/snakemake --cores $(CORES)

test: setup
	$(BIN)/python -m pytest -n 2

# Rewrite the SIMULATED raw exports in data/raw/ (byte-identical for an unchanged spec).
simulate: setup
	$(BIN)/python scripts/simulate_raw_data.py

lint: setup
	$(BIN)/snakemake --lint

# Re-resolve requirements.in into requirements.lock in a throw-away environment.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet -r requirements.in
	{ echo "# Exact pins resolved from requirements.in (make lock). Installed by make setup."; \
	  echo "setuptools==80.9.0"; .lock-venv/bin/python -m pip freeze | sort -f; } > requirements.lock
	rm -rf .lock-venv
	@echo "requirements.lock updated: update environment.yml to the same versions (tests check it)."

clean-results:
	rm -rf results/*/ .snakemake/log
