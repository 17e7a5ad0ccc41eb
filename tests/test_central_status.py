"""`facelens gallery status` and the window's tooltip describe a configured central gallery."""

from __future__ import annotations

import json
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pytest

from facelens.attendance import AttendanceStore
from facelens.cli import main
from facelens.gallery.backend import GALLERY_URL_ENV
from facelens.gallery.central_status import describe_text, server_label
from facelens.gallery.sync import ReplicatedGallery
from facelens.modelpack.pack import source_manifest
from pg_support import new_database

pytest.importorskip("psycopg", reason="the central gallery needs psycopg (central extra)")
SPACE = source_manifest("lite")["embedding"]  # the default pack's model and size


def _with_password(url: str, password: str) -> str:
    parts = urlsplit(url)
    user = parts.username or "postgres"
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{parts.hostname or ''}"))


def _status(capsys, home, *extra) -> tuple[int, str]:
    rc = main(["gallery", "status", "--home", str(home), *extra])
    return rc, capsys.readouterr().out


def test_status_describes_the_server_replica_and_outbox_without_the_password(
        server, tmp_path, capsys, monkeypatch):
    url = _with_password(new_database(server), "s3cr3t-pw")  # the test server trusts anyone
    monkeypatch.setenv(GALLERY_URL_ENV, url)
    home = tmp_path / "station"
    vecs = np.random.default_rng(0).standard_normal((3, SPACE["dim"])).astype(np.float32)
    with ReplicatedGallery.open(url, home, SPACE["model_id"], SPACE["dim"]) as station:
        station.enrol("Ada", vecs[:2])
        station.enrol("Bob", vecs[2:])
    log = AttendanceStore(home / "attendance.db", window_s=0)
    for who in ("Ada", "Bob", "Ada"):
        log.log(who, 0.9)
    log.close()

    rc, out = _status(capsys, home, "--json")
    info = json.loads(out)
    assert rc == 0 and "s3cr3t" not in out
    assert info["server"] == server_label(url) and info["server"].startswith("postgres@")
    assert info["reachable"] and (info["people"], info["templates"]) == (2, 3)
    assert not info["encrypted"] and info["model_id"] == SPACE["model_id"]
    assert info["queued"] == 3  # logged after the station's last sync
    replica = info["replica"]
    assert (replica["people"], replica["templates"]) == (2, 3)
    assert replica["change"] == info["change"] and 0 <= replica["age_s"] < 60
    rc, text = _status(capsys, home)
    assert "s3cr3t" not in text and "2 people, 3 templates" in text
    assert "up to date" in text and "3 rows queued" in text and str(home) in text

    with ReplicatedGallery.open(url, home, SPACE["model_id"], SPACE["dim"]) as station:
        assert station.describe()["queued"] == 0  # the sync on opening delivered them
        tip = describe_text(station.describe())
        assert "connected" in tip and "0 rows queued" in tip and "s3cr3t" not in tip
    assert json.loads(_status(capsys, home, "--json")[1])["queued"] == 0


def test_status_of_an_unreachable_server_says_so_exits_1_and_still_describes_the_replica(
        server, tmp_path, capsys, monkeypatch):
    url = new_database(server)
    home = tmp_path / "station"
    vec = np.random.default_rng(1).standard_normal((1, SPACE["dim"])).astype(np.float32)
    with ReplicatedGallery.open(url, home, SPACE["model_id"], SPACE["dim"]) as station:
        station.enrol("Cy", vec)
    gone = urlunsplit(urlsplit(url)._replace(query=f"host={tmp_path / 'no-server'}"))
    monkeypatch.setenv(GALLERY_URL_ENV, gone)
    rc, out = _status(capsys, home, "--json")
    info = json.loads(out)
    assert rc == 1 and info["reachable"] is False and "cannot connect" in info["error"]
    assert (info["replica"]["people"], info["replica"]["templates"]) == (1, 1)
    rc, text = _status(capsys, home)
    assert rc == 1 and "unreachable" in text and "1 person, 1 template" in text


def test_server_label_never_shows_a_password():
    assert server_label("postgresql://door:pw@db.example:5433/facelens") == \
        "door@db.example:5433/facelens"
    assert server_label("postgresql://door@/facelens?host=/run/pg&password=pw") == \
        "door@/run/pg/facelens"
