# Two commands on a fresh machine: `make run` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= examples/local.toml

.PHONY: run test lint format system-deps clean bench

run: system-deps $(VENV)/.installed
	$(BIN)/python examples/make_samples.py
	$(BIN)/extractkit run --config $(CONFIG)
	@echo
	@echo "Try: $(BIN)/extractkit search 図書館   or   $(BIN)/extractkit search typhoon"

test: system-deps-test $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.installed-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: system-deps-test $(VENV)/.installed-test
	$(BIN)/python bench/quality.py
	$(BIN)/python bench/speed.py
	$(BIN)/python bench/isolation.py

system-deps:
	@bash scripts/install-system-deps.sh

system-deps-test:
	@bash scripts/install-system-deps.sh --with-test-tools

$(VENV)/.created:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools wheel
	touch $@

$(VENV)/.installed: $(VENV)/.created pyproject.toml
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) .extractkit build *.egg-info .pytest_cache .ruff_cache
