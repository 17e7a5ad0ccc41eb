"""Shared fixtures: the real model pack, the real engine and the dev photos."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FACES_DEV = ROOT.parent / "shared" / "faces-dev"
os.environ.setdefault("FACELENS_MODELS", str(ROOT / "build" / "models"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

needs_faces_dev = pytest.mark.skipif(
    not FACES_DEV.is_dir(),
    reason=f"real photos not found: {FACES_DEV} (../shared/faces-dev beside the repo) is absent")


@pytest.fixture(scope="session")
def faces_dev() -> Path:
    """The dev photo folder; tests using it are skipped with a reason when it is absent."""
    if not FACES_DEV.is_dir():
        pytest.skip(f"real photos not found: {FACES_DEV} is absent")
    return FACES_DEV


@pytest.fixture(scope="session")
def engine():
    """The real FaceEngine on the `lite` pack (built on first use), CPU or CUDA."""
    from facelens.engine.recognizer import FaceEngine

    return FaceEngine.load("lite", "auto")


@pytest.fixture(scope="session")
def t1_photo():
    """insightface's bundled group photo with six people."""
    from facelens.engine.bench import sample_photo

    return sample_photo()


@pytest.fixture(scope="module")
def server():
    """A real PostgreSQL 16 + pgvector server (PyPI `pgserver`), one per test module of the
    central gallery (tests/pg_support.py); test_downloads.py's own `server` (HTTP) overrides
    it there."""
    from pg_support import start, stop

    srv = start()
    yield srv
    stop(srv)


@pytest.fixture
def pg_url(server) -> str:
    """An empty database of its own on `server`, for one test."""
    from pg_support import new_database

    return new_database(server)
