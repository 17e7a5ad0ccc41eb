"""Offline first: station replicas and outboxes against a real server that goes away."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from facelens.attendance import AttendanceStore
from facelens.gallery.sync import ReplicatedGallery
from facelens.images import load_image
from pg_support import kill, new_database, restart, start, stop

psycopg = pytest.importorskip("psycopg", reason="the central gallery needs psycopg (central extra)")
WORKER = Path(__file__).with_name("central_station_worker.py")
MODEL, DIM = "lite/mobilefacenet-192", 192  # the lite pack (models/lite.json)


@pytest.fixture
def server():
    srv = start()
    yield srv
    stop(srv)


def _delivered_per_station(url: str) -> int:
    """The fewest attendance rows any of the two stations has delivered so far."""
    with psycopg.connect(url) as c:
        try:
            counts = [n for (n,) in c.execute("SELECT count(*) FROM attendance "
                                              "GROUP BY station")]
        except psycopg.errors.UndefinedTable:  # no station has created the tables yet
            return 0
    return min(counts) if len(counts) == 2 else 0


def test_enrolment_reaches_the_other_station_and_the_replica_works_offline(
        engine, faces_dev, tmp_path, server):
    url = new_database(server)
    amy = faces_dev / "people" / "bbt_amy"
    emb = engine.analyze_photo(load_image(amy / "1.png"))[0].embedding
    probe = engine.analyze_photo(load_image(amy / "2.png"))[0].embedding
    t = engine.default_threshold
    with ReplicatedGallery.open(url, tmp_path / "a", engine.model_id, engine.dim) as a, \
            ReplicatedGallery.open(url, tmp_path / "b", engine.model_id, engine.dim) as b:
        assert b.identify(probe, t)[0].name is None
        a.enrol("Amy", emb[None])
        assert a.identify(probe, t)[0].name == "Amy"  # the enrolling station at once
        assert b.identify(probe, t)[0].name is None  # the other one at its next sync
        assert b.sync()
        assert b.identify(probe, t)[0].name == "Amy"
        a.rename("Amy", "Amy F")
        b.sync()
        assert [p.name for p in b.people()] == ["Amy F"]
        kill(server)
        assert not b.sync()
        assert b.status().startswith("central gallery: offline since ")
        assert b.identify(probe, t)[0].name == "Amy F"  # recognition goes on offline
        with pytest.raises(Exception, match="offline since .*nothing was changed"):
            b.remove("Amy F")
        restart(server)
        assert b.sync() and b.status() == "central gallery: connected"
        b.remove("Amy F")
        a.sync()
        assert a.people() == [] and a.identify(probe, t)[0].name is None


def test_two_station_processes_deliver_every_row_exactly_once_across_a_server_crash(
        engine, faces_dev, tmp_path, server):
    url = new_database(server)
    rows = 150
    emb = engine.analyze_photo(load_image(faces_dev / "people/bbt_raj/1.png"))[0].embedding
    probe = engine.analyze_photo(load_image(faces_dev / "people/bbt_raj/3.png"))[0].embedding
    np.save(tmp_path / "probe.npy", probe[None])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    workers = {
        label: subprocess.Popen(
            [sys.executable, str(WORKER), url, str(tmp_path / label), label, str(rows),
             *([str(tmp_path / "probe.npy"), "Raj"] if label == "b" else [])],
            stdout=subprocess.PIPE, text=True, env=env)
        for label in ("a", "b")}
    end = time.monotonic() + 120
    while _delivered_per_station(url) < 5 and time.monotonic() < end:
        time.sleep(0.1)  # kill mid-run: both stations are logging and delivering
    assert _delivered_per_station(url) >= 5, "the stations never delivered before the outage"
    with ReplicatedGallery.open(url, tmp_path / "admin", MODEL, DIM) as admin:
        admin.enrol("Raj", emb[None])  # while b runs: its next sync brings it
    enrolled_at = time.time()
    time.sleep(1.0)
    kill(server)
    down_at = time.monotonic()
    time.sleep(3.0)  # rows pile up in the outboxes meanwhile
    restart(server)
    downtime = time.monotonic() - down_at
    out = {}
    for label, proc in workers.items():
        stdout, _ = proc.communicate(timeout=180)
        assert proc.returncode == 0
        out[label] = [json.loads(line) for line in stdout.splitlines()]
    done = {label: events[-1] for label, events in out.items()}
    for label, events in out.items():
        kinds = [e["event"] for e in events]
        assert "offline" in kinds and "online" in kinds, kinds  # each saw the outage
        assert done[label]["queued"] == 0
        assert 0 < done[label]["most_queued_offline"] < 2 * rows  # queued mid-run, not all
    seen = [e for e in out["b"] if e["event"] == "recognised"]
    assert seen  # the enrolment made on the admin station reached station b
    with psycopg.connect(url) as c:
        for label in ("a", "b"):
            station = json.loads((tmp_path / label / "station.json").read_text())["id"]
            got = c.execute("SELECT station_seq, person FROM attendance WHERE station = %s "
                            "ORDER BY id", (station,)).fetchall()
            assert [s for s, _ in got] == list(range(1, rows + 1))  # in order, once each
            assert [p for _, p in got] == [f"{label}-{i}" for i in range(rows)]
            audit = c.execute("SELECT station_seq, detail->>'reason' FROM audit WHERE "
                              "station = %s ORDER BY id", (station,)).fetchall()
            assert [r for _, r in audit] == [f"{label}-{i}" for i in range(rows)]
    local = AttendanceStore(tmp_path / "a" / "attendance.db")
    assert len(local.entries()) == rows  # nothing lost or moved locally either
    local.close()
    print(f"\noutage {downtime:.1f} s; rows logged per station {rows}; most queued while "
          f"offline: a {done['a']['most_queued_offline']}, b {done['b']['most_queued_offline']};"
          f" delivered {2 * rows} attendance + {2 * rows} audit rows, 0 duplicates, 0 lost;"
          f" enrolment recognised on b {seen[0]['at'] - enrolled_at:.2f} s after it was made")


def test_a_station_exports_its_replica_and_refuses_an_import(tmp_path, server):
    from facelens.errors import GalleryError
    from facelens.gallery import Gallery

    url = new_database(server)
    with ReplicatedGallery.open(url, tmp_path / "a", "m/4", 4) as a:
        a.enrol("Ada", np.eye(4, dtype=np.float32)[:1])
        a.export(tmp_path / "backup.db")
        with pytest.raises(GalleryError, match="nothing was changed.*gallery push"):
            a.import_(tmp_path / "backup.db")
    with Gallery.open(tmp_path / "backup.db", "m/4", 4) as copy:
        assert [p.name for p in copy.people()] == ["Ada"]
