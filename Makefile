# Qamera Desktop: `make run` launches the app on the embedded sandbox, `make test` runs everything.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

.PHONY: run test lint unit bench selftest package clean

# (Re)create the venv when it is missing or was made with a Python older than 3.12.
$(VENV)/.python-ok:
	@if [ -x $(PY) ] && $(PY) -c 'import sys; sys.exit(sys.version_info < (3, 12))'; then :; else \
	    BASE=$$(sh .ci/find-python) || exit 1; \
	    echo "Creating $(VENV) with $$BASE"; rm -rf $(VENV); "$$BASE" -m venv $(VENV); \
	    $(PIP) install --upgrade pip; fi
	@touch $@

$(VENV)/.installed-run: pyproject.toml $(VENV)/.python-ok
	$(PIP) install -e .
	@touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.python-ok
	$(PIP) install -e '.[dev]'
	@touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(PY) -m qamera_desktop --demo

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff check qamera_desktop tests
	$(VENV)/bin/ruff format --check qamera_desktop tests
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

unit: $(VENV)/.installed-dev
	$(PY) -m pytest -p no:cacheprovider --cov=qamera_desktop --cov-report=term:skip-covered

test: lint unit

bench: $(VENV)/.installed-dev
	$(PY) -m tests.perf

selftest: $(VENV)/.installed-run
	$(PY) -m qamera_desktop --self-test

package: $(VENV)/.installed-dev
	$(PIP) install -e '.[package]'
	$(PY) -m PyInstaller --noconfirm --clean --distpath dist --workpath build packaging/qamera-desktop.spec

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache .coverage
