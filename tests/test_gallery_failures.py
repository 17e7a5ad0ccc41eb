"""A gallery file that is damaged, locked, full or read-only: a clear GalleryError, and
nothing stored is lost, overwritten or half written."""

from __future__ import annotations

import os
import sqlite3

import numpy as np
import pytest

from facelens.gallery import Gallery, GalleryError

DIM = 192
MODEL = "lite/mobilefacenet-192"
T = 0.5


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    x = rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(11)


def make_gallery(path, rng, people: int = 30) -> np.ndarray:
    """A closed gallery of `people` one-template people with ~4 KB thumbnails; their vectors."""
    vectors = unit(rng, people)
    with Gallery.open(path, MODEL, DIM) as g:
        for i, v in enumerate(vectors):
            g.enrol(f"P{i:02d}", v[None], thumbnails=[os.urandom(4000)])
    return vectors


def state(g: Gallery, vectors: np.ndarray) -> tuple:
    """What a user would notice: people, template counts and who each vector is."""
    return ([(p.name, p.templates) for p in g.people()], g.count_templates(),
            [m.name for m in g.identify(vectors, T)])


def assert_untouched(path, before: bytes) -> None:
    assert path.read_bytes() == before
    assert not path.with_name(path.name + "-wal").exists()


# -- damaged files ---------------------------------------------------------------------------

def test_garbage_file_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "gallery.db"
    path.write_bytes(b"these are not the bytes you are looking for\x00\x01" * 100)
    before = path.read_bytes()
    with pytest.raises(GalleryError) as err:
        Gallery.open(path, MODEL, DIM)
    msg = str(err.value)
    assert str(path) in msg and "not an SQLite file" in msg
    assert "untouched" in msg and "export" in msg and "Move it" in msg
    assert_untouched(path, before)


def test_truncated_database_is_refused_and_left_alone(tmp_path, rng):
    path = tmp_path / "gallery.db"
    make_gallery(path, rng)
    full = path.read_bytes()
    path.write_bytes(full[: len(full) // 2])
    before = path.read_bytes()
    with pytest.raises(GalleryError, match="damaged") as err:
        Gallery.open(path, MODEL, DIM)
    assert str(path) in str(err.value)
    assert_untouched(path, before)


def test_overwritten_page_is_refused_and_left_alone(tmp_path, rng):
    path = tmp_path / "gallery.db"
    make_gallery(path, rng)
    data = bytearray(path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    data[2 * page: 3 * page] = os.urandom(page)  # the third page: part of a table
    path.write_bytes(bytes(data))
    with pytest.raises(GalleryError, match="damaged"):
        Gallery.open(path, MODEL, DIM)
    assert_untouched(path, bytes(data))


def test_another_programs_database_is_not_taken_over(tmp_path):
    path = tmp_path / "notes.db"
    with sqlite3.connect(path) as other:
        other.execute("CREATE TABLE notes (text TEXT)")
        other.execute("INSERT INTO notes VALUES ('keep me')")
    other.close()
    before = path.read_bytes()
    with pytest.raises(GalleryError, match="some other program"):
        Gallery.open(path, MODEL, DIM)
    assert path.read_bytes() == before


def test_gallery_from_a_newer_version_is_refused(tmp_path, rng):
    path = tmp_path / "gallery.db"
    make_gallery(path, rng, people=1)
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 99")
    raw.close()
    with pytest.raises(GalleryError, match="newer FaceLens"):
        Gallery.open(path, MODEL, DIM)


def test_importing_a_damaged_export_changes_nothing(tmp_path, rng):
    path = tmp_path / "gallery.db"
    vectors = make_gallery(path, rng, people=3)
    export = tmp_path / "export.db"
    with Gallery.open(path, MODEL, DIM) as g:
        g.export(export)
        before = state(g, vectors)
        export.write_bytes(export.read_bytes()[:3000])
        with pytest.raises(GalleryError, match="damaged"):
            g.import_(export, merge=False)
        (tmp_path / "junk.db").write_bytes(b"junk" * 1000)
        with pytest.raises(GalleryError, match="not an SQLite file"):
            g.import_(tmp_path / "junk.db")
        assert state(g, vectors) == before


# -- locked by another process ---------------------------------------------------------------

def test_locked_database_gives_clear_error_and_keeps_data(tmp_path, rng):
    path = tmp_path / "gallery.db"
    vectors = make_gallery(path, rng, people=3)
    g = Gallery.open(path, MODEL, DIM, busy_timeout_s=0.2)
    before = state(g, vectors)
    other = sqlite3.connect(path, isolation_level=None)  # e.g. a second FaceLens writing
    other.execute("BEGIN EXCLUSIVE")
    try:
        g.export(tmp_path / "backup.db")  # reading (and so backing up) still works
        for write in (lambda: g.enrol("P00", unit(rng, 1)), lambda: g.enrol("New", unit(rng, 1)),
                      lambda: g.rename("P01", "Renamed"), lambda: g.remove("P02"),
                      lambda: g.import_(tmp_path / "backup.db", merge=False)):
            with pytest.raises(GalleryError, match="database is locked by another FaceLens"):
                write()
        assert state(g, vectors) == before  # reads go on while the other holds the lock (WAL)
        with Gallery.open(path, MODEL, DIM, busy_timeout_s=0.2) as second:
            assert state(second, vectors) == before
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert g.enrol("New", unit(rng, 1)) == 1  # works again once the lock is gone
    g.close()
    with Gallery.open(path, MODEL, DIM) as g:
        assert [p.name for p in g.people()] == ["New", "P00", "P01", "P02"]
        assert g.count_templates() == 4


# -- full disk, read-only --------------------------------------------------------------------

def test_full_disk_writes_nothing(tmp_path, rng):
    """SQLite's own page limit gives the same SQLITE_FULL a full disk gives."""
    path = tmp_path / "gallery.db"
    vectors = make_gallery(path, rng, people=3)
    g = Gallery.open(path, MODEL, DIM)
    before = state(g, vectors)
    pages = g._db.execute("PRAGMA page_count").fetchone()[0]
    g._db.execute(f"PRAGMA max_page_count = {pages + 2}")
    big = [os.urandom(20_000) for _ in range(5)]  # ~25 pages: cannot fit
    with pytest.raises(GalleryError, match="disk full: nothing was changed"):
        g.enrol("P00", unit(rng, 5), thumbnails=big)
    with pytest.raises(GalleryError, match="database or disk is full"):
        g.enrol("Newcomer", unit(rng, 5), thumbnails=big)
    assert state(g, vectors) == before
    g._db.execute(f"PRAGMA max_page_count = {2**30}")  # space freed
    assert g.enrol("Newcomer", unit(rng, 5), thumbnails=big) == 5
    g.close()
    with Gallery.open(path, MODEL, DIM) as g:
        assert g.count_templates() == 8


def test_full_disk_during_import_imports_nothing(tmp_path, rng):
    src = tmp_path / "big.db"
    vectors = make_gallery(src, rng, people=40)
    export = tmp_path / "export.db"
    with Gallery.open(src, MODEL, DIM) as g:
        g.export(export)
    with Gallery.open(tmp_path / "gallery.db", MODEL, DIM) as g:
        g.enrol("Kept", unit(rng, 1))
        pages = g._db.execute("PRAGMA page_count").fetchone()[0]
        g._db.execute(f"PRAGMA max_page_count = {pages + 10}")  # room for a few people only
        with pytest.raises(GalleryError, match="full"):
            g.import_(export)
        assert [p.name for p in g.people()] == ["Kept"] and g.count_templates() == 1
        assert g.identify(vectors, T) == g.identify(vectors, 2.0)  # no one from the export


def test_read_only_database_gives_clear_error(tmp_path, rng):
    """`query_only` makes SQLite refuse writes the way a read-only file does."""
    path = tmp_path / "gallery.db"
    vectors = make_gallery(path, rng, people=2)
    with Gallery.open(path, MODEL, DIM) as g:
        before = state(g, vectors)
        g._db.execute("PRAGMA query_only = ON")
        with pytest.raises(GalleryError, match="cannot be written"):
            g.enrol("P00", unit(rng, 1))
        with pytest.raises(GalleryError, match="cannot be written"):
            g.remove("P00")
        assert state(g, vectors) == before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="file permissions do not stop root (this sandbox runs as root)")
def test_read_only_file_gives_clear_error(tmp_path, rng):
    path = tmp_path / "gallery.db"
    make_gallery(path, rng, people=2)
    before = path.read_bytes()
    path.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        with pytest.raises(GalleryError, match="cannot be written|cannot open"):
            with Gallery.open(path, MODEL, DIM) as g:
                g.enrol("P00", unit(rng, 1))
    finally:
        tmp_path.chmod(0o755)
        path.chmod(0o644)
    assert path.read_bytes() == before


def test_export_to_missing_folder(tmp_path, rng):
    with Gallery.open(tmp_path / "gallery.db", MODEL, DIM) as g:
        with pytest.raises(GalleryError, match="missing"):
            g.export(tmp_path / "missing" / "backup.db")
