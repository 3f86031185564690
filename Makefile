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

.PHONY: run test lint lint-workflows unit bench selftest package bench-package icons lock clean

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

lint: $(VENV)/.installed-dev lint-workflows
	$(VENV)/bin/ruff check qamera_desktop tests
	$(VENV)/bin/ruff format --check qamera_desktop tests
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

# The GitHub workflows: offline against the GitHub workflow schema that check-jsonschema vendors,
# and with actionlint (expressions, job outputs, shellcheck of the scripts) when it is installed.
lint-workflows: $(VENV)/.installed-dev
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	@if [ -x $(VENV)/bin/actionlint ]; then $(VENV)/bin/actionlint .github/workflows/*.yml; \
	else echo "lint-workflows: actionlint skipped, $(VENV)/bin/actionlint is not installed"; fi

unit: $(VENV)/.installed-dev
	$(PY) -m pytest -p no:cacheprovider --cov=qamera_desktop --cov-report=term:skip-covered

test: lint unit

bench: $(VENV)/.installed-dev
	$(PY) -m tests.perf

selftest: $(VENV)/.installed-run
	$(PY) -m qamera_desktop --self-test

# `make package`: the Linux folder dist/qamera-desktop/ (PyInstaller), then from it
# dist/qamera-desktop-<version>-linux-<arch>.tar.gz and dist/qamera-desktop_<version>_<arch>.deb.
# Each step runs again only when its inputs changed. tests/packaging builds its own packages from
# the same folder with PACKAGE_OUT=build/test-packages PACKAGE_FAST=1 (compressed for speed).
ONEDIR := dist/qamera-desktop
PACKAGE_OUT ?= dist
PYINSTALLER_INPUTS = $(shell find qamera_desktop resources packaging/hooks -type f \
	! -path '*/__pycache__/*' ! -path 'resources/screenshots/*') \
	packaging/qamera-desktop.spec packaging/launcher.py packaging/version.py

package: $(PACKAGE_OUT)/.linux-packages

$(ONEDIR)/qamera-desktop: $(VENV)/.installed-package $(PYINSTALLER_INPUTS)
	$(PY) -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build \
	    packaging/qamera-desktop.spec
	@touch $@

$(PACKAGE_OUT)/.linux-packages: $(ONEDIR)/qamera-desktop $(wildcard packaging/linux/*.py packaging/linux/*.desktop)
	$(PY) packaging/linux/build.py --version "$$($(PY) packaging/version.py)" \
	    --onedir $(ONEDIR) --out $(PACKAGE_OUT) $(if $(PACKAGE_FAST),--fast)
	@touch $@

# Sizes and build time of the Linux packages, and the frozen app's start against the source's.
bench-package: $(VENV)/.installed-dev $(VENV)/.installed-package
	$(PY) packaging/measure.py

# Regenerate the committed app icons (.ico, .icns, PNGs) from resources/icons/app.svg.
icons: $(VENV)/.installed-run
	$(PY) packaging/make_icons.py

lock: $(VENV)/.python-ok
	$(PIP) install 'uv==$(UV_VERSION)'
	$(LOCK) -o requirements/run.lock
	$(LOCK) --extra dev -c requirements/run.lock -o requirements/dev.lock
	$(LOCK) --extra package -c requirements/run.lock -o requirements/package.lock

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache .coverage
