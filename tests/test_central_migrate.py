"""`facelens gallery push URL` / `pull URL` against a real PostgreSQL + pgvector server."""

from __future__ import annotations

import json

import numpy as np
import pytest

from facelens.attendance import AttendanceStore
from facelens.cli import main
from facelens.gallery import Gallery, default_db_path
from facelens.images import load_image
from pg_support import new_database

psycopg = pytest.importorskip("psycopg", reason="the central gallery needs psycopg (central extra)")


def _run(capsys, *argv: str) -> dict:
    assert main([*argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_push_then_pull_on_another_station_recognises_real_photos(
        engine, faces_dev, tmp_path, server, capsys, monkeypatch):
    monkeypatch.delenv("FACELENS_GALLERY_URL", raising=False)
    url = new_database(server)
    a, b = tmp_path / "a", tmp_path / "b"
    people = sorted((faces_dev / "people").glob("bbt_*"))
    with Gallery.open(default_db_path(a), engine.model_id, engine.dim) as g:
        for d in people:
            embs = [engine.analyze_photo(load_image(d / f"{i}.png"))[0].embedding
                    for i in (1, 3)]
            g.enrol(d.name, np.stack(embs), thumbnails=[b"\xff\xd8" + d.name.encode(), None])
    log = AttendanceStore(a / "attendance.db", window_s=0)
    for d in people[:3]:
        log.log(d.name, 0.8, source="door 1")
    log.close()

    first = _run(capsys, "gallery", "push", url, "--home", str(a))
    assert first["people"] == len(people) and first["templates"] == 2 * len(people)
    assert first["attendance"] == 3
    again = _run(capsys, "gallery", "push", url, "--home", str(a))
    assert (again["people"], again["templates"], again["attendance"]) == (0, 0, 0)
    assert again["templates_skipped"] == 2 * len(people) and again["attendance_skipped"] == 3
    with psycopg.connect(url) as c:
        assert c.execute("SELECT count(*) FROM templates").fetchone()[0] == 2 * len(people)
        rows = c.execute("SELECT station_seq, person, source FROM attendance "
                         "ORDER BY station_seq").fetchall()
    assert [r[1] for r in rows] == [d.name for d in people[:3]] and rows[0][2] == "door 1"

    pulled = _run(capsys, "gallery", "pull", url, "--home", str(b))
    assert pulled["people"] == len(people) and pulled["templates"] == 2 * len(people)
    probes = np.stack([engine.analyze_photo(load_image(d / "2.png"))[0].embedding
                       for d in people])
    with Gallery.open(default_db_path(a), engine.model_id, engine.dim) as ga, \
            Gallery.open(default_db_path(b), engine.model_id, engine.dim) as gb:
        got_a = ga.identify(probes, engine.default_threshold)
        got_b = gb.identify(probes, engine.default_threshold)
        assert [m.name for m in got_b] == [m.name for m in got_a]
        assert [m.similarity for m in got_b] == [m.similarity for m in got_a]  # exact copy
        assert sum(m.name == d.name for m, d in zip(got_b, people, strict=True)) >= \
            len(people) - 1
        thumbs = {p.name: p.thumbnail for p in gb.people()}
        assert thumbs[people[0].name] == b"\xff\xd8" + people[0].name.encode()
    assert not (b / "attendance.db").exists()  # another station's rows stay on the server
    again = _run(capsys, "gallery", "pull", url, "--home", str(b))
    assert (again["people"], again["templates"]) == (0, 0)


def test_pull_restores_this_stations_lost_attendance_rows(tmp_path, server, capsys,
                                                          monkeypatch):
    monkeypatch.delenv("FACELENS_GALLERY_URL", raising=False)
    url = new_database(server)
    home = tmp_path / "a"
    log = AttendanceStore(home / "attendance.db", window_s=0)
    for name in ["Ada", "Bob", "Ada"]:
        log.log(name, 0.9)
    log.close()
    assert _run(capsys, "gallery", "push", url, "--home", str(home))["attendance"] == 3
    (home / "attendance.db").unlink()
    for extra in ("-wal", "-shm"):
        (home / f"attendance.db{extra}").unlink(missing_ok=True)
    assert _run(capsys, "gallery", "pull", url, "--home", str(home))["attendance"] == 3
    log = AttendanceStore(home / "attendance.db")
    assert [(e.seq, e.person) for e in log.entries()] == [(1, "Ada"), (2, "Bob"), (3, "Ada")]
    log.close()


def test_push_of_an_encrypted_gallery_is_refused_and_copies_nothing(tmp_path, server, capsys,
                                                                    monkeypatch):
    monkeypatch.delenv("FACELENS_GALLERY_URL", raising=False)
    monkeypatch.setenv("FACELENS_PASSPHRASE", "correct horse")
    url = new_database(server)
    home = tmp_path / "a"
    dim = 192  # the lite pack's embedding (models/lite.json)
    with Gallery.open(default_db_path(home), "lite/mobilefacenet-192", dim) as g:
        g.enrol("Ada", np.eye(dim, dtype=np.float32)[:1])
        g.encrypt("correct horse")
    assert main(["gallery", "push", url, "--home", str(home)]) == 2
    err = capsys.readouterr().err
    assert "encrypted" in err and "nothing was copied" in err
    with psycopg.connect(url) as c:
        assert c.execute("SELECT count(*) FROM people").fetchone()[0] == 0
    from facelens.gallery.pg.store import PgGallery

    with PgGallery.open(url, "lite/mobilefacenet-192", dim) as central:
        central.encrypt("correct horse")  # an encrypted server may take it: sealed there too
    assert _run(capsys, "gallery", "push", url, "--home", str(home))["templates"] == 1
    with psycopg.connect(url) as c:
        assert c.execute("SELECT count(*) FROM templates WHERE sealed IS NOT NULL "
                         "AND embedding IS NULL").fetchone()[0] == 1
    with PgGallery.open(url, "lite/mobilefacenet-192", dim, passphrase="correct horse") as g:
        assert g.identify(np.eye(dim, dtype=np.float32)[:1], 0.9)[0].name == "Ada"


def test_unreachable_server_is_a_clear_error_with_the_password_masked(tmp_path, capsys):
    rc = main(["gallery", "push", "postgresql://door:hunter2@127.0.0.1:9/x", "--home",
               str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "hunter2" not in err and "door:***@127.0.0.1:9" in err
    assert "cannot connect" in err
