# One command surface for people, CI and the README.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install browser run test bench lint typecheck fmt lock clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: $(STAMP) ## Create .venv with the locked dependencies and the project

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed, found " + sys.version.split()[0]) if sys.version_info < (3, 11) else None'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

run: install ## Start Redis (if none), an SMTP sink, the worker, beat and Flower
	$(BIN)/python -m project.devstack

browser: ## Install Debian's chromium and docker-compose for the Flower and compose tests
	scripts/install-browser.sh

test: install browser ## Run the whole test suite against real services it starts itself
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install ## Benchmarks (a few minutes, own Redis): table and bench/results/latest.json
	$(BIN)/python -m bench

lint: install ## ruff
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install ## mypy --strict on project/ and tests/ (tests/typing holds the typing contract)
	$(BIN)/mypy

fmt: install ## Format and fix what ruff can
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

lock: ## Re-resolve requirements.lock from pyproject.toml
	$(BIN)/uv pip compile pyproject.toml --all-extras --python-version 3.11 \
		--no-header --output-file requirements.lock

clean: ## Remove the virtualenv and local state
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
