# Qamera Desktop: `make run` launches the app on the embedded sandbox, `make test` runs everything.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q

# Installs come from the lock files in requirements/ (every package pinned, with its hashes); the
# project itself is installed editable without dependencies, built by the locked hatchling
# (requirements/build.in) instead of one fetched unhashed into an isolated build environment.
INSTALL_LOCKED = $(PIP) install --require-hashes -r $(1) && \
	$(PIP) install --no-deps --no-build-isolation -e .

# `make lock` regenerates the lock files from pyproject.toml with uv (installed into the venv for
# that only). Pins that pyproject.toml still allows are kept; `make lock UPGRADE=1` takes the newest.
UV_VERSION := 0.13.9
LOCK := $(VENV)/bin/uv pip compile --quiet --universal --generate-hashes --python-version 3.12 \
	--custom-compile-command 'make lock' $(if $(UPGRADE),--upgrade) pyproject.toml requirements/build.in

.PHONY: run test lint unit bench selftest package lock clean

# (Re)create the venv when it is missing or was made with a Python outside 3.12-3.13.
$(VENV)/.python-ok:
	@if [ -x $(PY) ] && $(PY) -c 'import sys; sys.exit(not (3, 12) <= sys.version_info < (3, 14))'; then :; else \
	    BASE=$$(sh .ci/find-python) || exit 1; \
	    echo "Creating $(VENV) with $$BASE"; rm -rf $(VENV); "$$BASE" -m venv $(VENV); \
	    $(PIP) install --upgrade pip; fi
	@touch $@

# Each stamp is remade when its lock file (or pyproject.toml: entry points, version) changes.
$(VENV)/.installed-run: requirements/run.lock pyproject.toml $(VENV)/.python-ok
	$(call INSTALL_LOCKED,requirements/run.lock)
	@touch $@

# dev.lock holds everything of run.lock at the same versions (locked with run.lock as constraints)
$(VENV)/.installed-dev: requirements/dev.lock pyproject.toml $(VENV)/.python-ok
	$(call INSTALL_LOCKED,requirements/dev.lock)
	@touch $@ $(VENV)/.installed-run

$(VENV)/.installed-package: requirements/package.lock pyproject.toml $(VENV)/.python-ok
	$(call INSTALL_LOCKED,requirements/package.lock)
	@touch $@

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

package: $(VENV)/.installed-package
	$(PY) -m PyInstaller --noconfirm --clean --distpath dist --workpath build packaging/qamera-desktop.spec

lock: $(VENV)/.python-ok
	$(PIP) install 'uv==$(UV_VERSION)'
	$(LOCK) -o requirements/run.lock
	$(LOCK) --extra dev -c requirements/run.lock -o requirements/dev.lock
	$(LOCK) --extra package -c requirements/run.lock -o requirements/package.lock

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache .coverage
