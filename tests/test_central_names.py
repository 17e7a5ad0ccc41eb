"""A central gallery finds people in any case and Unicode spelling, as the local one does."""

from __future__ import annotations

import threading
import unicodedata

import numpy as np
import pytest

from facelens.errors import GalleryError
from facelens.gallery.backend import open_backend
from facelens.gallery.sync import ReplicatedGallery

pytest.importorskip("psycopg", reason="the central gallery needs psycopg (central extra)")

NFC = "José"
NFD = unicodedata.normalize("NFD", "JOSÉ")
WIDE = "ｊｏｓé"  # fullwidth letters: NFKC folds them


def _vecs(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 8)).astype(np.float32)


def test_enrol_verify_rename_remove_in_any_case_and_spelling(pg_url):
    v = _vecs(4)
    with open_backend(pg_url, "m/8", 8) as g:
        g.enrol(NFC, v[:1])
        g.enrol(NFD, v[1:2])  # the same person: a second template, no second person
        g.enrol(WIDE, v[2:3])
        assert [(p.name, p.templates) for p in g.people()] == [(NFC, 3)]
        assert g.verify("JOSE\u0301", v[0], 0.99).name == NFC
        assert g.identify(v[2:3], 0.99)[0].name == NFC  # search names the stored spelling
        g.enrol("Ana", v[3:])
        with pytest.raises(GalleryError, match="already exists"):
            g.rename(WIDE, "ANA")
        assert g.rename("josé", "José García") == NFC
        assert g.verify("JOSÉ GARCÍA", v[0], 0.99).name == "José García"
        with pytest.raises(GalleryError, match="no one called"):
            g.verify(NFC, v[0], 0.0)
        assert g.remove("ｊｏｓé ｇａｒｃíａ") == 3
        assert [p.name for p in g.people()] == ["Ana"]


def test_a_station_renames_and_removes_in_any_case_through_its_replica(pg_url, tmp_path):
    v = _vecs(2, 1)
    with ReplicatedGallery.open(pg_url, tmp_path, "m/8", 8) as station:
        station.enrol("Zoë", v[:1])
        station.enrol(unicodedata.normalize("NFD", "ZOË"), v[1:])
        assert [(p.name, p.templates) for p in station.people()] == [("Zoë", 2)]
        assert station.verify("zoë", v[1], 0.99).name == "Zoë"
        station.rename("ZOË", "Zoë Q")
        assert [p.name for p in station.people()] == ["Zoë Q"]
        assert station.remove("zoë q") == 2
        assert station.people() == []


def test_people_stored_before_name_keys_are_found_in_any_case(pg_url):
    import psycopg

    with open_backend(pg_url, "m/8", 8):
        pass  # the tables
    with psycopg.connect(pg_url, autocommit=True) as c:  # as an older FaceLens stored them
        c.execute("INSERT INTO people (name, created, updated) VALUES ('Émile', '-', '-')")
        assert c.execute("SELECT name_key FROM people").fetchone()[0] is None
    with open_backend(pg_url, "m/8", 8) as g:
        g.enrol("ÉMILE", _vecs(1)[0])
        assert [(p.name, p.templates) for p in g.people()] == [("Émile", 1)]


def test_a_gallery_made_by_an_older_facelens_is_brought_up_to_date(pg_url):
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as c:  # the tables as the first version
        c.execute("CREATE EXTENSION IF NOT EXISTS vector")
        c.execute("CREATE TABLE people (id bigserial PRIMARY KEY, name text NOT NULL, "
                  "created text NOT NULL, updated text NOT NULL)")
        c.execute("CREATE UNIQUE INDEX people_name ON people (lower(name))")
        c.execute("CREATE TABLE templates (id bigserial PRIMARY KEY, person_id bigint NOT NULL "
                  "REFERENCES people(id) ON DELETE CASCADE, model_id text NOT NULL, dim "
                  "integer NOT NULL, embedding vector, sealed bytea, thumbnail bytea, source "
                  "text, created text NOT NULL)")
        c.execute("INSERT INTO people (name, created, updated) VALUES ('Émile', '-', '-')")
    crop = np.zeros((112, 112, 3), np.uint8)
    with open_backend(pg_url, "m/8", 8) as g:
        g.enrol("ÉMILE", _vecs(1)[0], crops=[crop])
        assert [(p.name, p.templates) for p in g.people()] == [("Émile", 1)]
    with psycopg.connect(pg_url) as c:
        assert c.execute("SELECT count(*) FROM templates t JOIN crops k ON k.id = t.crop_id"
                         ).fetchone()[0] == 1


def test_two_stations_enrolling_one_name_in_two_spellings_at_once_make_one_person(pg_url):
    v = _vecs(2, 2)
    a, b = open_backend(pg_url, "m/8", 8), open_backend(pg_url, "m/8", 8)
    start_together = threading.Barrier(2)
    errors = []

    def enrol(g, name, vec):
        start_together.wait()
        try:
            for _ in range(5):
                g.enrol(name, vec)
        except GalleryError as exc:  # pragma: no cover - the failure the test looks for
            errors.append(exc)

    threads = [threading.Thread(target=enrol, args=(a, NFC, v[0])),
               threading.Thread(target=enrol, args=(b, NFD, v[1]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert [(p.name, p.templates) for p in a.people()] in ([(NFC, 10)],
                                                               [(unicodedata.normalize(
                                                                   "NFC", NFD), 10)])
    finally:
        a.close()
        b.close()
