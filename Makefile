# Two commands on a fresh machine: `make run` and `make test`. Each installs what it needs.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= examples/local.toml

.PHONY: run test lint format system-deps system-deps-test ami-tools services services-stop clean bench

run: system-deps $(VENV)/.installed
	$(BIN)/python examples/make_samples.py
	$(BIN)/extractkit run --config $(CONFIG)
	@echo
	@echo "Try: $(BIN)/extractkit search 図書館   or   $(BIN)/extractkit search typhoon"

test: system-deps-test ami-tools $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	bash scripts/services.sh run -- $(BIN)/python -m pytest $(PYTEST_ARGS)

# Start the test servers (OpenSearch, S3 and SQS) in the background; `make services-stop` ends them.
services: $(VENV)/.installed-test
	bash scripts/services.sh start

services-stop:
	bash scripts/services.sh stop

ami-tools:
	@bash scripts/install-ami-tools.sh

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
	$(BIN)/python -m pip install -q -e '.[all]'
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(BIN)/python -m pip install -q -e '.[all,test]'
	touch $@

clean:
	rm -rf $(VENV) .extractkit build *.egg-info .pytest_cache .ruff_cache
