# FaceLens: `make run` starts the app, `make test` runs the tests. Both set everything up.
PYTHON ?= python3.11
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export FACELENS_MODELS ?= $(CURDIR)/build/models

.PHONY: setup run test lint models bench dist screenshots clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv>=0.5"

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --extra test --python $(PYTHON)
	touch $@

setup: $(VENV)/.synced

models: setup
	$(VENV)/bin/facelens models build

run: setup
	$(VENV)/bin/facelens $(ARGS)

test: setup
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
