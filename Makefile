# The two commands of the README: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-floors check bench clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# A second environment at the lowest versions pyproject.toml declares (.ci/floors.txt).
FLOORS := .venv-floors
$(FLOORS)/.installed: pyproject.toml .ci/floors.txt
	test -d $(FLOORS) || $(PYTHON) -m venv $(FLOORS)
	$(FLOORS)/bin/python -m pip install --quiet --upgrade pip
	$(FLOORS)/bin/python -m pip install --quiet -e ".[dev]" -c .ci/floors.txt
	touch $@

# `make demo DEMO_ARGS=--fast` passes flags on (docs/demo.md).
demo: $(STAMP)
	$(BIN)/sightline demo $(DEMO_ARGS)

check: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy

test: check
	$(BIN)/python -m pytest

# The suite again at the declared floors (numpy 1.x among them), but for tests/demo: the
# live demo and its browser tests (about 3 minutes) run once, in `make test`.
test-floors: $(FLOORS)/.installed
	$(FLOORS)/bin/python -m pytest -q --ignore=tests/demo

bench: $(STAMP)
	bash benchmarks/setup.sh
	benchmarks/.venv/bin/python benchmarks/compare.py
	bash benchmarks/setup_whylogs.sh
	benchmarks/.venv-whylogs/bin/python benchmarks/profile.py

clean:
	rm -rf $(VENV) $(FLOORS) build dist *.egg-info sightline-report.html
