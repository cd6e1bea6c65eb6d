# Two commands for a new user: `make demo` (a whole course cycle) and `make test`.
# Both create .venv on first use; later runs reuse it and install nothing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install test test-unit lint format demo bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m cnn_course.sandbox install
	@touch $@

install: $(STAMP)

# source/ is excluded from ruff's walk (its notebooks are nbgrader's); its modules are not.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/ruff check --no-force-exclude source/*/*.py
	$(BIN)/ruff format --check --no-force-exclude source/*/*.py

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format --no-force-exclude source/*/*.py

# Two pytest workers, each taking whole files (a file's tests share its fixtures); JOBS=0
# runs the suite in one process.
JOBS ?= 2
test: lint
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile $(PYTEST_ARGS)

# The in-process layer alone (no nbgrader run, no kernel): about a minute.
test-unit: lint
	$(BIN)/python -m pytest -m unit -q $(PYTEST_ARGS)

demo: $(STAMP)
	$(BIN)/cnn-course demo

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_reference.py

clean:
	rm -rf autograded submitted feedback exchange gradebook.db .pytest_cache
