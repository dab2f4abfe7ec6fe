# Two commands: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
DEMO_DIR ?= runs/demo
PYTEST_ARGS ?= --durations=25
# Test files spread over two worker processes (pytest-xdist; a file's tests stay together, so
# what a module compiles once is shared by its tests): the suite is compile-bound.
PYTEST_WORKERS ?= 2

.PHONY: demo test lint format venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==26.3
	$(PY) -m pip install --quiet -c requirements.lock -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m fakenas_jax.demo --workdir=$(DEMO_DIR)

test: $(STAMP)
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# ruff (pyproject.toml): unused and undefined names, import order, formatting.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf $(VENV) runs .jax_cache .pytest_cache
