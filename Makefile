# `make` builds the environment on first use and runs the pipeline; `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CORES  ?= all
UV     := uv==0.13.9

export PATH := $(CURDIR)/$(BIN):$(PATH)
# With PYTHONDONTWRITEBYTECODE (set in some environments) every pipeline process would recompile
# what it imports; unset for make's commands, each module is compiled once, on its first import.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: all run setup compile test benchmark lint lock simulate clean-results
all: run

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml scripts/fetch_fonts.py
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "error: Python >= 3.11 is needed (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check $(UV) 2>&1 | grep -v "^WARNING: Location" || true
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps --no-build-isolation -e .
	$(BIN)/python scripts/fetch_fonts.py
	@touch $@

# Byte-compile the project's own modules once, before parallel jobs import them.
compile: setup
	@$(BIN)/python -m compileall -q src

run: compile
	$(BIN)/snakemake --cores $(CORES)

test: compile
	$(BIN)/python -m pytest -n 2

# Cold run and no-op rerun of the default pipeline in a fresh copy (benchmarks/README.md).
benchmark: compile
	$(BIN)/python benchmarks/pipeline.py

# Rewrite the SIMULATED raw exports in data/raw/ (byte-identical for an unchanged spec), and the
# simulated rating stream of chengdu_a (config/evaluations_simulation.yaml; not committed: too large).
simulate: setup
	$(BIN)/python scripts/simulate_raw_data.py
	$(BIN)/csi evaluations simulate

lint: setup
	$(BIN)/snakemake --lint

# Re-resolve requirements.in into requirements.lock in a throw-away environment.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet $(UV)
	.lock-venv/bin/uv pip install --quiet --python .lock-venv/bin/python -r requirements.in "setuptools>=80"
	{ echo "# Exact pins resolved from requirements.in (make lock). Installed by make setup."; \
	  .lock-venv/bin/uv pip freeze --python .lock-venv/bin/python | grep -vE '^(uv|pip)==' | sort -f; } > requirements.lock
	rm -rf .lock-venv
	$(PYTHON) scripts/sync_environment_yml.py

clean-results:
	rm -rf results/*/ .snakemake/log
