# FaceLens: `make run` starts the app, `make test` runs the tests. Both set everything up.
PYTHON ?= python3.11
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
export FACELENS_MODELS ?= $(CURDIR)/build/models

.PHONY: setup setup-test run test test-packaging lint models bench dist screenshots clean

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

# The whole suite with the soak tests; the packaging tests (the wheel pip-installed in a fresh
# venv, the Linux bundle under `env -i`; they build both first, minutes) run with
# `make test-packaging`.
PYTEST_ARGS ?= -m "not packaging" --durations=15

test: setup-test
	$(VENV)/bin/ruff check desktop tests packaging
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/python -m pytest $(PYTEST_ARGS)

test-packaging: setup-test models appimage
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/python -m pytest -m packaging tests/test_packaging.py \
		tests/test_bundle.py

bench: setup
	$(VENV)/bin/facelens bench-engine

# A wheel and an sdist in dist/ (pip install dist/facelens-*.whl; then `facelens doctor`).
dist: $(UV)
	$(UV) build --out-dir dist

# Every wheel the pip install needs, so tests/test_packaging.py does not download them again.
.PHONY: wheelhouse
wheelhouse: dist
	$(PYTHON) -m pip download -q -d build/wheelhouse dist/facelens-*.whl

screenshots: setup
	bash packaging/screenshots.sh

clean:
	rm -rf $(VENV) $(TOOLS) build

# Desktop entry, icon and AppStream metainfo for the current user (needs `facelens` on PATH,
# e.g. from pipx). PREFIX=/usr/local (with sudo) installs for everyone.
PREFIX ?= $(HOME)/.local
.PHONY: install-desktop uninstall-desktop
install-desktop:
	install -Dm644 packaging/linux/facelens.desktop $(PREFIX)/share/applications/facelens.desktop
	install -Dm644 packaging/linux/facelens.svg \
		$(PREFIX)/share/icons/hicolor/scalable/apps/facelens.svg
	install -Dm644 packaging/linux/io.github.facelens.metainfo.xml \
		$(PREFIX)/share/metainfo/io.github.facelens.metainfo.xml
	-command -v update-desktop-database >/dev/null && \
		update-desktop-database $(PREFIX)/share/applications
	-command -v gtk-update-icon-cache >/dev/null && \
		gtk-update-icon-cache -q -t $(PREFIX)/share/icons/hicolor
	@command -v facelens >/dev/null || echo "note: facelens is not on PATH; pipx install it first"

uninstall-desktop:
	rm -f $(PREFIX)/share/applications/facelens.desktop \
		$(PREFIX)/share/icons/hicolor/scalable/apps/facelens.svg \
		$(PREFIX)/share/metainfo/io.github.facelens.metainfo.xml

# Linux single-file bundle (not an AppImage: no registry has appimagetool or the AppImage
# runtime): PyInstaller's folder build, gzip'd behind a small sh stub that checks its sha256 and
# unpacks it once into ~/.cache/facelens/bundle (packaging/linux/bundle_stub.sh). Built in a
# fresh venv from the wheel with CPU onnxruntime and headless OpenCV; the lite pack is built on
# first start.
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
BUNDLE_VENV := build/bundle-venv
BUNDLE := dist/FaceLens-$(VERSION)-x86_64.run
.PHONY: appimage bundle
appimage bundle: dist
	rm -rf $(BUNDLE_VENV) build/pyinstaller
	$(PYTHON) -m venv $(BUNDLE_VENV)
	$(BUNDLE_VENV)/bin/pip install -q dist/facelens-$(VERSION)-py3-none-any.whl "pyinstaller>=6.10"
	$(BUNDLE_VENV)/bin/pip uninstall -y -q onnxruntime onnxruntime-gpu opencv-python \
		opencv-python-headless
	$(BUNDLE_VENV)/bin/pip install -q --no-deps onnxruntime opencv-python-headless
	$(BUNDLE_VENV)/bin/facelens doctor
	$(BUNDLE_VENV)/bin/pyinstaller --noconfirm --log-level WARN \
		--distpath build/pyinstaller/dist --workpath build/pyinstaller/work \
		packaging/pyinstaller/facelens.spec
	sh packaging/linux/make_bundle.sh build/pyinstaller/dist/FaceLens $(VERSION) $(BUNDLE)
	@ls -l $(BUNDLE)
