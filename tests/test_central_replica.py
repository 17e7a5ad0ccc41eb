"""A station's replica is brought up to date by change number: only the people changed are
copied again, and the result is always what a full copy of the server would be."""

from __future__ import annotations

import numpy as np
import pytest

from facelens.gallery.sync import ReplicatedGallery, _read_changes, replica_change
from pg_support import new_database

pytest.importorskip("psycopg", reason="the central gallery needs psycopg (central extra)")
DIM = 8


def _content(station: ReplicatedGallery) -> dict:
    """What a replica holds, by name: templates, crops and negatives in clear."""
    g = station.replica
    c, codec = g._db, g._codec
    names = dict(c.execute("SELECT id, name FROM people"))
    templates = sorted((names[p], m, codec.open_vector(t, p, m, d, v), crop is not None)
                       for t, p, m, d, v, crop in c.execute(
                           "SELECT id, person_id, model_id, dim, vector, crop_id FROM templates"))
    crops = sorted((names[p], codec.open_crop(k, p, b))
                   for k, p, b in c.execute("SELECT id, person_id, crop FROM crops"))
    negs = sorted((names[p], codec.open_vector(n, p, f"negative:{m}", d, v))
                  for n, p, m, d, v in c.execute(
                      "SELECT id, person_id, model_id, dim, vector FROM negatives"))
    return {"people": sorted(names.values()), "templates": templates, "crops": crops,
            "negatives": negs}


def _fresh(url: str, home) -> dict:
    with ReplicatedGallery.open(url, home, "m/8", DIM) as station:  # a full first copy
        return _content(station)


def test_only_changed_people_are_copied_and_the_replica_equals_a_full_copy(server, tmp_path):
    url = new_database(server)
    rng = np.random.default_rng(3)
    crop = rng.integers(0, 255, (112, 112, 3), dtype=np.uint8)
    vec = lambda: rng.standard_normal((1, DIM)).astype(np.float32)  # noqa: E731
    with ReplicatedGallery.open(url, tmp_path / "a", "m/8", DIM) as a, \
            ReplicatedGallery.open(url, tmp_path / "b", "m/8", DIM) as b:
        for name in ("Ada", "Bob", "Cy"):
            a.enrol(name, vec(), crops=[crop])
        assert b.sync()
        a.enrol("Bob", vec())
        central = b._central
        snap = _read_changes(central, *replica_change(b.replica), False)
        bob = [pid for pid, name, *_ in snap.people]
        assert [name for _, name, *_ in snap.people] == ["Bob"] and len(bob) == 1
        assert snap.person_ids == bob and len(snap.templates) == 2  # Bob's alone
        steps = [lambda: a.enrol("Bob", vec()),
                 lambda: a.rename("Ada", "Ada L"),
                 lambda: a.add_negative("Cy", vec()[0]),
                 lambda: a.remove("bob"),
                 lambda: a.enrol("Dee", vec(), crops=[crop]),
                 lambda: (a.rename("Cy", "tmp"), a.rename("Dee", "Cy"), a.rename("tmp", "Dee")),
                 lambda: a.remove("Ada L")]
        for i, step in enumerate(steps):
            step()
            assert b.sync()
            assert replica_change(b.replica)[0] == str(central.change_number())
            assert _content(b) == _fresh(url, tmp_path / f"full-{i}"), f"after step {i}"
        assert [p.name for p in b.people()] == ["Cy", "Dee"]
        assert b.count_negatives("Dee") == 1  # the negative followed Cy's renames


def test_a_replica_file_put_back_from_a_backup_catches_up_with_the_server(server, tmp_path):
    import shutil

    url = new_database(server)
    rng = np.random.default_rng(5)
    with ReplicatedGallery.open(url, tmp_path / "s", "m/8", DIM) as s:
        s.enrol("Ann", rng.standard_normal((1, DIM)).astype(np.float32))
        s.replica.export(tmp_path / "old.db")  # the replica as it was then
        s.enrol("Ben", rng.standard_normal((1, DIM)).astype(np.float32))
    shutil.copy(tmp_path / "old.db", tmp_path / "s" / "central-replica.db")
    with ReplicatedGallery.open(url, tmp_path / "s", "m/8", DIM) as s:
        assert [p.name for p in s.people()] == ["Ann", "Ben"]


def test_a_replica_of_another_server_gallery_is_replaced_whole(server, tmp_path):
    first, second = new_database(server), new_database(server)
    rng = np.random.default_rng(4)
    with ReplicatedGallery.open(first, tmp_path / "s", "m/8", DIM) as s:
        s.enrol("Old", rng.standard_normal((1, DIM)).astype(np.float32))
    with ReplicatedGallery.open(second, tmp_path / "other", "m/8", DIM) as other:
        other.enrol("New", rng.standard_normal((1, DIM)).astype(np.float32))
        other.enrol("Newer", rng.standard_normal((1, DIM)).astype(np.float32))
    # the same data folder now points at the second server gallery, whose change number
    # (2) is above the replica's (1): only the gallery id tells them apart
    with ReplicatedGallery.open(second, tmp_path / "s", "m/8", DIM) as s:
        assert [p.name for p in s.people()] == ["New", "Newer"]
