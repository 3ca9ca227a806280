# Acme Support Desk. `make help` lists the targets. Only Python 3.11+ is needed: every target
# that runs code bootstraps .venv first, installing the tested versions from constraints.txt.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PORT   ?= 2024
# setuptools' notice on every editable install ("Editable installation ... be careful with folders"):
# informational, and it looks like a failure on a fresh machine. Only warnings starting with that text are hidden.
QUIET_EDITABLE := ignore:Editable installation

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (found " + sys.version.split()[0] + "); set PYTHON=python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "Installing into $(VENV) (first run only)..."
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@PYTHONWARNINGS="$(QUIET_EDITABLE)" $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

.PHONY: install
install: $(STAMP) ## create .venv and install the project with its dev tools

# Aegra (`support serve --engine aegra`) needs Python 3.12: its own environment, beside .venv, with the
# versions tested together pinned in constraints-aegra.txt (`make lock-aegra` refreshes them).
# The first Python 3.12 that really runs: a pyenv shim named python3.12 may exist yet refuse to run
# ("pyenv: python3.12: command not found") when 3.12 is installed but not selected.
ifndef AEGRA_PYTHON
AEGRA_PYTHON := $(shell for p in python3.12 $(HOME)/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 \
	/usr/bin/python3.12; do "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1 \
	&& { command -v "$$p"; break; }; done)
endif
AEGRA_VENV   := .venv-aegra
AEGRA_STAMP  := $(AEGRA_VENV)/.installed-stamp

$(AEGRA_STAMP): pyproject.toml constraints-aegra.txt
	@test -n "$(AEGRA_PYTHON)" && test -x "$(AEGRA_PYTHON)" || { echo "make aegra: no working Python 3.12 found; install it or set AEGRA_PYTHON=/path/to/python3.12" >&2; exit 1; }
	@test -x $(AEGRA_VENV)/bin/python || "$(AEGRA_PYTHON)" -m venv $(AEGRA_VENV)
	@echo "Installing Aegra into $(AEGRA_VENV) (first run only)..."
	@$(AEGRA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@PYTHONWARNINGS="$(QUIET_EDITABLE)" $(AEGRA_VENV)/bin/python -m pip install --quiet --disable-pip-version-check \
		-c constraints-aegra.txt aegra-api aegra-cli -e '.[postgres]'
	@touch $(AEGRA_STAMP)

.PHONY: aegra
aegra: $(AEGRA_STAMP) ## install Aegra (Python 3.12) into .venv-aegra for `support serve --engine aegra`

.PHONY: lock-aegra
lock-aegra: $(AEGRA_STAMP)
	@$(AEGRA_VENV)/bin/python -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^acme-support-desk' > constraints-aegra.txt

.PHONY: demo
demo: $(STAMP) ## run the demo conversations offline (no key, no network)
	@$(BIN)/support demo

.PHONY: serve
serve: $(STAMP) ## run the LangGraph server on 127.0.0.1 with the demo tokens: API, Studio and the approval console (PORT=2024)
	@$(BIN)/support serve --port $(PORT) --demo-tokens

.PHONY: screenshot
screenshot: $(STAMP) ## redraw docs/approvals-console.png and docs/chat.png (needs Debian's chromium)
	@$(BIN)/python -m tests.console_screenshot docs/approvals-console.png
	@$(BIN)/python -m tests.chat_screenshot docs/chat.png

.PHONY: test
test: $(STAMP) ## run the test suite
	@$(BIN)/pytest

.PHONY: lint
lint: $(STAMP) ## ruff lint and format check
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

.PHONY: typecheck
typecheck: $(STAMP) ## mypy
	@$(BIN)/mypy

.PHONY: check
check: lint typecheck test ## lint, type-check and test: keep green before each commit

.PHONY: format
format: $(STAMP) ## apply ruff's formatting and safe fixes
	@$(BIN)/ruff check --fix .
	@$(BIN)/ruff format .

BENCH_STAMP := $(VENV)/.bench-stamp

$(BENCH_STAMP): $(STAMP)
	@PYTHONWARNINGS="$(QUIET_EDITABLE)" $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

# The original design's measuring harness (shared/, beside the repository); left out when it is not there.
SEED_HARNESS ?= ../shared/bench/seed_sdk/seed_system.py

.PHONY: bench
bench: $(BENCH_STAMP) ## the full benchmark run (in process, cold start, vs the original design, server, evals); rewrites docs/BENCHMARKS.md
	@$(BIN)/support bench --write-docs --evals --server --startup \
		$(if $(wildcard $(SEED_HARNESS)),--baseline $(SEED_HARNESS),)

.PHONY: eval
eval: $(STAMP) ## routing accuracy through triage (7,055 messages) and the scenario suite (3 runs each)
	@$(BIN)/support eval routing
	@$(BIN)/support eval scenarios --k 3

.PHONY: lock
lock: $(STAMP) ## refresh constraints.txt from the current .venv
	@$(BIN)/python -m pip freeze --exclude-editable --disable-pip-version-check | grep -v '^acme-support-desk' > constraints.txt

.PHONY: clean
clean: ## remove .venv, caches and local data
	rm -rf $(VENV) $(AEGRA_VENV) .support .pytest_cache .mypy_cache .ruff_cache *.egg-info
