"""A real PostgreSQL 16 + pgvector server for the central-gallery tests (PyPI `pgserver`).

`start(folder)` starts one in `folder` (or skips the test with the reason it cannot);
`new_database(server)` gives each test an empty database of its own.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest


def start(folder: Path | None = None):
    """A running pgserver in `folder` (default: a new folder in the system's temporary
    folder); the calling test is skipped when none can start.

    Not under pytest's tmp_path: run as root, pgserver runs PostgreSQL as another user, who
    must traverse the parent folders, and pytest keeps /tmp/pytest-of-root private (0700).
    """
    try:
        import pgserver
        import psycopg  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"central gallery tests need pgserver and psycopg ({exc}); "
                    "install the 'test' and 'central' extras")
    folder = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="facelens-pg-"))
    try:
        server = pgserver.get_server(folder, cleanup_mode="stop")
        server.psql("CREATE EXTENSION IF NOT EXISTS vector;")
    except Exception as exc:  # noqa: BLE001 - any failure to start means: skip, saying why
        pytest.skip(f"pgserver could not start PostgreSQL with pgvector in {folder}: {exc}")
    return server


def stop(server) -> None:
    """Stop `server` and delete its folder."""
    server.cleanup()
    shutil.rmtree(server.pgdata, ignore_errors=True)


def kill(server) -> None:
    """Kill PostgreSQL outright (SIGKILL to the postmaster and its children): a crash."""
    proc = server._postmaster_info.process
    children = proc.children(recursive=True)
    proc.kill()
    for child in children:
        child.kill()
    proc.wait(10)


def restart(server) -> None:
    """Start `server` again in its folder (crash recovery runs first)."""
    with server._lock:
        server.ensure_postgres_running()


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` instead."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def new_database(server) -> str:
    """The URL of a new, empty database on `server`."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    server.psql(f"CREATE DATABASE {name};")
    return with_database(server.get_uri(), name)
