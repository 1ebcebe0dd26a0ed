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

# The suite again at the declared floors (numpy 1.x among them), but for the suites that
# drive whole processes rather than the libraries whose versions the floors change: the live
# demo and its browser tests, the README's walk-throughs, the replicas, and the Prometheus
# and SIGKILL tests (together about 6 minutes). They run once, in `make test`.
FLOORS_SKIP := --ignore=tests/demo --ignore=tests/docs --ignore=tests/scale \
	--ignore=tests/server/test_prometheus.py --ignore=tests/server/test_prometheus_alerting.py \
	--ignore=tests/server/test_reliability.py
test-floors: $(FLOORS)/.installed
	$(FLOORS)/bin/python -m pytest -q $(FLOORS_SKIP)

bench: $(STAMP)
	bash benchmarks/setup.sh
	benchmarks/.venv/bin/python benchmarks/compare.py
	bash benchmarks/setup_whylogs.sh
	benchmarks/.venv-whylogs/bin/python benchmarks/profile.py

clean:
	rm -rf $(VENV) $(FLOORS) build dist *.egg-info sightline-report.html
