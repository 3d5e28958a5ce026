# Every target sets up its own virtual environment (.venv) on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HASH   := $(shell cat pyproject.toml | cksum | cut -d' ' -f1)
STAMP  := $(VENV)/.installed-$(HASH)
# the demo needs only the core package (no test extra: darts, dysts, dask, duckdb)
CORE   := $(VENV)/.core-$(HASH)

# Single-threaded numerics: oversubscribed threads are 10-100x slower on small machines.
export OMP_NUM_THREADS ?= 1
export OMP_WAIT_POLICY ?= PASSIVE
export OPENBLAS_NUM_THREADS ?= 1
export MKL_NUM_THREADS ?= 1

.PHONY: install test demo bench bench-quick lint clean dataset verify-dataset leaderboard

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

$(CORE): pyproject.toml
	@echo "== setting up $(VENV) with the core package only (numpy, scipy, numba, pandas, pyarrow, rich): about a minute, once"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $(CORE)

test: install
	$(BIN)/python -m pytest -q

demo: $(CORE)
	@echo "== dysts-bench show Lorenz: a registry entry (equations, parameters, invariants, citation)"
	$(BIN)/dysts-bench show Lorenz
	@echo "== integrating Lorenz, 1000 points (the very first run compiles the integrator first)"
	$(BIN)/dysts-bench trajectory Lorenz --n 1000 --pts-per-period 100
	@echo "== the systems"
	$(BIN)/dysts-bench systems
	@echo "== the leaderboard of the reference results"
	$(BIN)/dysts-bench leaderboard
	@echo "== done. To type the README's commands: source $(VENV)/bin/activate (or use $(BIN)/dysts-bench)"

bench: install
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/python -m tests.benchmarks --full --write BENCHMARKS.md

bench-quick: install
	$(BIN)/python -m tests.benchmarks --quick

dataset: install
	$(BIN)/python -m dysts_bench.dataset --canonical --workers 2

verify-dataset: install
	$(BIN)/python -m dysts_bench.dataset verify

leaderboard: install
	$(BIN)/dysts-bench leaderboard --results leaderboard/results --out leaderboard --format all

lint: install
	$(BIN)/python -m pip install -q ruff
	$(BIN)/ruff check dysts_bench tests

clean:
	rm -rf $(VENV) build dist *.egg-info
