# POMS developer commands (GNU make).
#   make run    one-command service with embedded defaults (scripts/run)
#   make test   the Debian packages the tests need (scripts/system-packages test), .venv
#               created/refreshed when requirements.txt changed, then pytest on several
#               processes (PYTEST_WORKERS, default auto; 0: one process)
#   make test-postgres  the same suite with the `app` fixture on a real PostgreSQL
#               (POMS_TEST_DATABASE=postgresql; the server is started by the tests)
#   make bench  run every benchmarks/*.py with the venv's python
#   make screenshots  the operator's view while the tutorial's jobs run, as PNGs in
#               docs/screenshots/ (tests/overview/screenshots.py: Chromium, Redis, local engine)
#   make lint   ruff, and lint-imports: the layers of the house (contracts in pyproject.toml,
#               docs/architecture.md)
SHELL := /bin/bash
.DEFAULT_GOAL := test

VENV  := .venv
PY    := $(VENV)/bin/python
STAMP := $(VENV)/.requirements-stamp

# The venv is made from the first Python 3.11 with the venv module that
# scripts/system-packages finds (pyenv's here; Debian 12's python3.11 with python3.11-venv on
# a fresh machine). Override with `make PYTHON=/path/to/python3.11 ...`. It is looked up when
# a recipe runs, not when make starts: the recipe may have just installed it.
PYTHON ?=
SYSTEM_PACKAGES := PYTHON='$(PYTHON)' bash scripts/system-packages

PYTEST_ARGS ?=
# `make test` runs the suite on several processes (pytest-xdist): most of a test's time is
# waiting on the real servers and subprocesses it starts, and each process starts its own
# (Redis, KDC, PostgreSQL, sshd, Chromium, on free ports in its own temp dirs).
# PYTEST_WORKERS=0 runs it in one process. --dist loadgroup hands the tests out one by one
# as processes become free (no test has an xdist_group mark; with pytest 9.2 and xdist 3.8
# such marks do not group anyway), the longest first (tests/conftest.py). Each process that
# gets an HTCondor test starts its own pool (3-4 s) over the shared image. PYTHONDONTWRITEBYTECODE is dropped for the run: without .pyc
# files every process (workers, and the `flask`/`poms` commands tests start) compiles the
# app and the tests again, seconds of CPU each.
PYTEST_WORKERS ?= auto
PYTEST := env -u PYTHONDONTWRITEBYTECODE $(VENV)/bin/pytest -n $(PYTEST_WORKERS) --dist loadgroup

.PHONY: run test test-postgres bench lint venv print-python clean-venv screenshots

venv: $(STAMP)
	@:  # (says nothing when the venv is up to date)

# The stamp is newer than requirements.txt once that file's pins are installed.
$(STAMP): requirements.txt pyproject.toml
	@$(SYSTEM_PACKAGES) venv
	@python=$$($(SYSTEM_PACKAGES) --python) || exit 1; \
	if [ -e "$(PY)" ] && ! "$(PY)" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
	    >/dev/null 2>&1; then \
	  echo "make: $(VENV) is not a working Python 3.11 venv: recreating it"; rm -rf "$(VENV)"; fi; \
	if [ ! -e "$(PY)" ]; then echo "make: creating $(VENV) with $$python"; \
	  "$$python" -m venv "$(VENV)"; fi
	@echo "make: installing requirements.txt into $(VENV) (minutes on a new venv: gssapi builds from source)"
	"$(PY)" -m pip install --disable-pip-version-check -q -r requirements.txt
	"$(PY)" -m pip install --disable-pip-version-check -q -e . --no-deps  # the `poms` client
	@touch "$@"

print-python:
	@$(SYSTEM_PACKAGES) --python

run:
	bash scripts/run

# The packages first (scripts/system-packages test), then the venv, which may need them.
test:
	@$(SYSTEM_PACKAGES) test
	@$(MAKE) --no-print-directory venv
	$(PYTEST) $(PYTEST_ARGS)

test-postgres:
	@$(SYSTEM_PACKAGES) test
	@$(MAKE) --no-print-directory venv
	POMS_TEST_DATABASE=postgresql $(PYTEST) $(PYTEST_ARGS)

# Named on the command line, so pytest collects it although it is not a test_*.py file.
screenshots:
	@$(SYSTEM_PACKAGES) test
	@$(MAKE) --no-print-directory venv
	$(VENV)/bin/pytest -p no:cacheprovider -m screenshots tests/overview/screenshots.py

bench: venv
	@shopt -s nullglob; files=(benchmarks/*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "make bench: no benchmarks/*.py yet"; exit 0; fi; \
	status=0; for f in "$${files[@]}"; do \
	  echo "== $$f"; PYTHONPATH=. "$(PY)" "$$f" || status=1; done; exit $$status

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

clean-venv:
	rm -rf "$(VENV)"
