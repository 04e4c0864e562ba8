# POMS developer commands (GNU make).
#   make run    one-command service with embedded defaults (scripts/run)
#   make test   create/refresh .venv when requirements.txt changed, then run pytest
#   make test-postgres  the same suite with the `app` fixture on a real PostgreSQL
#               (POMS_TEST_DATABASE=postgresql; the server is started by the tests)
#   make bench  run every benchmarks/*.py with the venv's python
#   make lint   ruff
SHELL := /bin/bash
.DEFAULT_GOAL := test

VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-stamp

# The venv must be made from a Python 3.11 that has the venv module (ensurepip).
# pyenv's python3 is 3.11 on our machines; Debian's /usr/bin/python3 may be another version.
# Override with `make PYTHON=/path/to/python3.11 ...`.
PYTHON_CANDIDATES := python3.11 $(HOME)/.pyenv/shims/python3.11 python3 /usr/bin/python3.11
ifndef PYTHON
PYTHON := $(shell for p in $(PYTHON_CANDIDATES); do \
	  if command -v "$$p" >/dev/null 2>&1 && "$$p" -c 'import sys, ensurepip, venv; \
	      sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1; then \
	    command -v "$$p"; break; fi; done)
endif

PYTEST_ARGS ?=

.PHONY: run test test-postgres bench lint venv print-python clean-venv

venv: $(STAMP)

# The stamp is newer than requirements.txt once that file's pins are installed.
$(STAMP): requirements.txt pyproject.toml
	@if [ -z "$(PYTHON)" ]; then \
	  echo "make: no Python 3.11 with the venv module found (tried: $(PYTHON_CANDIDATES))." >&2; \
	  echo "      Install one (Debian: apt-get install python3.11-venv) or pass PYTHON=..." >&2; \
	  exit 1; fi
	@if [ -e "$(PY)" ] && ! "$(PY)" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
	    >/dev/null 2>&1; then \
	  echo "make: $(VENV) is not a working Python 3.11 venv: recreating it"; rm -rf "$(VENV)"; fi
	@if [ ! -e "$(PY)" ]; then echo "make: creating $(VENV) with $(PYTHON)"; \
	  "$(PYTHON)" -m venv "$(VENV)"; fi
	"$(PY)" -m pip install --disable-pip-version-check -q -r requirements.txt
	"$(PY)" -m pip install --disable-pip-version-check -q -e . --no-deps  # the `poms` client
	@touch "$@"

print-python:
	@echo "$(PYTHON)"

run:
	bash scripts/run

test: venv
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Debian's postgresql package (initdb, pg_ctl) must be installed: .ci/run installs it.
test-postgres: venv
	POMS_TEST_DATABASE=postgresql $(VENV)/bin/pytest $(PYTEST_ARGS)

bench: venv
	@shopt -s nullglob; files=(benchmarks/*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "make bench: no benchmarks/*.py yet"; exit 0; fi; \
	status=0; for f in "$${files[@]}"; do \
	  echo "== $$f"; PYTHONPATH=. "$(PY)" "$$f" || status=1; done; exit $$status

lint: venv
	$(VENV)/bin/ruff check .

clean-venv:
	rm -rf "$(VENV)"
