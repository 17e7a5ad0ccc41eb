# FaceLens: `make run` starts the app, `make test` runs the tests. Both set everything up.
PYTHON ?= python3.11
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export FACELENS_MODELS ?= $(CURDIR)/build/models

.PHONY: setup setup-test run test lint models bench dist screenshots clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv>=0.5"

# What the app needs (`make run`); --inexact keeps the test tools if `make test` added them.
$(VENV)/.synced-app: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --inexact --python $(PYTHON)
	touch $@

# The app and the test extras (pytest, pytest-qt, ruff, the TFLite reference runtime).
$(VENV)/.synced-test: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --extra test --python $(PYTHON)
	touch $@ $(VENV)/.synced-app

setup: $(VENV)/.synced-app

setup-test: $(VENV)/.synced-test

models: setup
	$(VENV)/bin/facelens models build

run: setup
	$(VENV)/bin/facelens $(ARGS)

test: setup-test
	$(VENV)/bin/ruff check desktop tests packaging
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/python -m pytest $(PYTEST_ARGS)

bench: setup
	$(VENV)/bin/facelens bench-engine

dist: setup
	$(UV) build --wheel --out-dir dist

screenshots: setup
	bash packaging/screenshots.sh

clean:
	rm -rf $(VENV) $(TOOLS) build
