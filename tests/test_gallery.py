"""Gallery behaviour on real SQLite files: enrol, identify, verify, manage, persist, back up.

The vectors are random unit vectors: this module only stores and searches them (recognition
with the real model is tested with the engine).
"""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from facelens.gallery import MAX_NAME_LENGTH, Gallery, GalleryError, Match, default_db_path

DIM = 192
MODEL = "lite/mobilefacenet-192"
T = 0.5  # any threshold works for random 192-d vectors: strangers score ~0 +- 0.07


def unit(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def near(v: np.ndarray, rng: np.random.Generator, noise: float = 0.05) -> np.ndarray:
    """Another 'photo' of the same person: `v` plus a little noise, normalised."""
    w = v + noise * rng.standard_normal(v.shape).astype(np.float32)
    return w / np.linalg.norm(w, axis=-1, keepdims=True)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


@pytest.fixture
def gallery(tmp_path):
    g = Gallery.open(default_db_path(tmp_path), MODEL, DIM)
    yield g
    g.close()


def test_one_shot_enrol_then_identify(gallery, rng):
    ada, bob = unit(rng, 2)
    assert gallery.enrol("Ada", ada[None]) == 1
    assert gallery.enrol("Bob", bob[None], thumbnails=[b"\xff\xd8jpeg"], sources=["bob.jpg"]) == 1
    stranger = unit(rng, 1)[0]
    got = gallery.identify(np.stack([near(bob, rng), stranger, near(ada, rng)]), T)
    assert [m.name for m in got] == ["Bob", None, "Ada"]
    assert got[0].person_id is not None and got[0].similarity > 0.7
    assert got[1] == Match(None, got[1].similarity, None) and got[1].similarity < T
    assert gallery.count_templates() == 2


def test_empty_gallery_answers_not_recognised(gallery, rng):
    assert gallery.identify(unit(rng, 2), T) == [Match(None, -1.0, None)] * 2
    assert gallery.people() == [] and gallery.count_templates() == 0


def test_person_matches_by_best_template(gallery, rng):
    frontal, profile = unit(rng, 2)
    gallery.enrol("Ada", frontal[None])
    assert gallery.enrol("Ada", profile[None]) == 1  # second photo: a template, not a person
    assert [(p.name, p.templates) for p in gallery.people()] == [("Ada", 2)]
    probe = near(profile, rng)
    m = gallery.identify(probe[None], T)[0]
    assert m.name == "Ada" and m.similarity == pytest.approx(float(profile @ probe), abs=1e-5)
    v = gallery.verify("Ada", probe, T)
    assert v.name == "Ada" and v.similarity == pytest.approx(m.similarity, abs=1e-5)


def test_verify(gallery, rng):
    ada, bob = unit(rng, 2)
    gallery.enrol("Ada", ada[None])
    gallery.enrol("Bob", bob[None])
    yes = gallery.verify("Ada", near(ada, rng), T)
    assert yes.name == "Ada" and yes.similarity > 0.7 and yes.person_id
    no = gallery.verify("Ada", near(bob, rng), T)  # Bob claiming to be Ada
    assert no.name is None and no.person_id is None and no.similarity < T
    assert gallery.verify(" ada ", ada, T).name == "Ada"  # names ignore case and spaces
    with pytest.raises(GalleryError, match="no one called 'Eve'"):
        gallery.verify("Eve", ada, T)
    with pytest.raises(GalleryError, match="one embedding"):
        gallery.verify("Ada", unit(rng, 2), T)


def test_threshold_is_inclusive_and_per_call(gallery, rng):
    ada = unit(rng, 1)[0]
    gallery.enrol("Ada", ada[None])
    probe = near(ada, rng, noise=0.1)
    sim = gallery.identify(probe[None], T)[0].similarity
    assert gallery.identify(probe[None], sim - 1e-4)[0].name == "Ada"
    assert gallery.identify(probe[None], sim + 1e-4)[0].name is None
    with pytest.raises(GalleryError, match="threshold"):
        gallery.identify(probe[None], float("nan"))


def test_people_lists_thumbnail_counts_and_times(gallery, rng):
    gallery.enrol("Zoe", unit(rng, 3), thumbnails=[None, b"first", b"second"],
                  sources=["a.jpg", "b.jpg", "c.jpg"])
    gallery.enrol("adam", unit(rng, 1))
    people = gallery.people()
    assert [(p.name, p.templates, p.thumbnail) for p in people] == [
        ("adam", 1, None), ("Zoe", 3, b"first")]
    assert people[1].created <= people[1].updated and people[1].created.endswith("+00:00")


def test_rename(gallery, rng):
    ada, bob = unit(rng, 2)
    gallery.enrol("Ada", ada[None])
    gallery.enrol("Bob", bob[None])
    gallery.rename("Ada", "  Ada Lovelace ")
    assert gallery.identify(ada[None], T)[0].name == "Ada Lovelace"
    assert gallery.verify("Ada Lovelace", ada, T).name == "Ada Lovelace"
    gallery.rename("bob", "BOB")  # changing only the case is allowed
    assert [p.name for p in gallery.people()] == ["Ada Lovelace", "BOB"]
    with pytest.raises(GalleryError, match="already exists"):
        gallery.rename("BOB", "ada lovelace")
    with pytest.raises(GalleryError, match="no one called"):
        gallery.rename("Nobody", "Somebody")
    with pytest.raises(GalleryError, match="empty"):
        gallery.rename("BOB", "   ")


def test_remove_takes_templates_and_index_entries(gallery, rng):
    ada, bob = unit(rng, 2)
    gallery.enrol("Ada", np.stack([ada, near(ada, rng)]))
    gallery.enrol("Bob", bob[None])
    assert gallery.remove("Ada") == 2
    assert gallery.count_templates() == 1
    assert gallery.identify(ada[None], T)[0].name is None
    assert gallery.identify(bob[None], T)[0].name == "Bob"
    with sqlite3.connect(gallery.path) as raw:
        assert raw.execute("SELECT count(*) FROM templates").fetchone() == (1,)
    with pytest.raises(GalleryError, match="no one called 'Ada'"):
        gallery.remove("Ada")
    gallery.enrol("Ada", ada[None])  # the name is free again
    assert gallery.identify(ada[None], T)[0].name == "Ada"


def test_reopen_persists(tmp_path, rng):
    path = tmp_path / "sub" / "gallery.db"
    ada, bob = unit(rng, 2)
    with Gallery.open(path, MODEL, DIM) as g:
        g.enrol("Ada", ada[None], thumbnails=[b"jpeg"])
        g.enrol("Bob", np.stack([bob, near(bob, rng)]))
        g.remove("Bob")
        g.enrol("Cy", bob[None])
    with Gallery.open(path, MODEL, DIM) as g:
        assert [(p.name, p.templates) for p in g.people()] == [("Ada", 1), ("Cy", 1)]
        assert [m.name for m in g.identify(np.stack([ada, bob]), T)] == ["Ada", "Cy"]
        assert g.people()[0].thumbnail == b"jpeg"
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert raw.execute("PRAGMA user_version").fetchone() == (1,)


def test_sees_writes_of_another_process(tmp_path, rng):
    """Two Gallery objects on one file (GUI and CLI): each index follows the other's writes."""
    path = tmp_path / "gallery.db"
    ada = unit(rng, 1)[0]
    with Gallery.open(path, MODEL, DIM) as gui, Gallery.open(path, MODEL, DIM) as cli:
        assert gui.identify(ada[None], T)[0].name is None
        cli.enrol("Ada", ada[None])
        assert gui.identify(ada[None], T)[0].name == "Ada"
        cli.remove("Ada")
        assert gui.identify(ada[None], T)[0].name is None and gui.count_templates() == 0


def test_other_model_templates_kept_but_not_searched(tmp_path, rng):
    path = tmp_path / "gallery.db"
    ada, bob = unit(rng, 2)
    with Gallery.open(path, "old/model-192", DIM) as g:
        g.enrol("Ada", ada[None])
    with Gallery.open(path, "other/model-128", 128) as g:
        g.enrol("Bob", unit(rng, 1, 128))
    with Gallery.open(path, MODEL, DIM) as g:
        assert g.other_model_templates == 2 and "not searched" in g.warnings[0]
        assert g.count_templates() == 0
        assert g.identify(ada[None], T)[0].name is None  # same size, other model: never mixed
        assert [(p.name, p.templates) for p in g.people()] == [("Ada", 0), ("Bob", 0)]
        with pytest.raises(GalleryError, match="no templates made by"):
            g.verify("Ada", ada, T)
        g.enrol("Ada", ada[None])  # re-enrolled with this model
        assert g.identify(ada[None], T)[0].name == "Ada"
    with Gallery.open(path, "old/model-192", DIM) as g:
        assert g.count_templates() == 1 and g.other_model_templates == 2


@pytest.mark.parametrize("name", ["", "   ", "\t\n", "x" * (MAX_NAME_LENGTH + 1), "Ada\nBob",
                                  None, 42])
def test_bad_names_rejected(gallery, rng, name):
    with pytest.raises(GalleryError, match="name"):
        gallery.enrol(name, unit(rng, 1))
    assert gallery.people() == [] and gallery.count_templates() == 0


def test_names_are_stripped_and_unicode_is_fine(gallery, rng):
    gallery.enrol("  Zoë Ñúñez  ", unit(rng, 1))
    gallery.enrol("x" * MAX_NAME_LENGTH, unit(rng, 1))
    assert [p.name for p in gallery.people()] == ["x" * MAX_NAME_LENGTH, "Zoë Ñúñez"]


@pytest.mark.parametrize("bad, why", [
    (np.zeros((1, 128), np.float32), r"\[n, 192\]"),
    (np.zeros((0, DIM), np.float32), r"\[n, 192\]"),
    (np.zeros((1, 2, DIM), np.float32), r"\[n, 192\]"),
    (np.full((1, DIM), np.nan, np.float32), "NaN or infinite"),
    (np.full((1, DIM), np.inf, np.float32), "NaN or infinite"),
    (np.zeros((1, DIM), np.float32), "all zeros"),
])
def test_bad_vectors_rejected(gallery, rng, bad, why):
    gallery.enrol("Ada", unit(rng, 1))
    with pytest.raises(GalleryError, match=why):
        gallery.enrol("Ada", bad)
    with pytest.raises(GalleryError, match=why):
        gallery.identify(bad, T)
    assert gallery.count_templates() == 1


def test_enrol_normalises_and_checks_list_lengths(gallery, rng):
    ada = unit(rng, 1)
    gallery.enrol("Ada", 3.0 * ada)  # not unit length: stored normalised
    assert gallery.identify(ada, T)[0].similarity == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="thumbnails"):
        gallery.enrol("Ada", unit(rng, 2), thumbnails=[None])
    with pytest.raises(GalleryError, match="JPEG bytes"):
        gallery.enrol("Ada", unit(rng, 1), thumbnails=["not bytes"])
    assert gallery.count_templates() == 1


def test_export_import_round_trip(tmp_path, rng):
    ada, bob, cy = unit(rng, 3)
    backup = tmp_path / "backup" / "facelens-gallery.db"
    backup.parent.mkdir()
    with Gallery.open(tmp_path / "a.db", MODEL, DIM) as g:
        g.enrol("Ada", np.stack([ada, near(ada, rng)]), thumbnails=[b"ada", None])
        g.enrol("Bob", bob[None], sources=["bob.jpg"])
        g.export(backup)
        g.export(backup)  # overwriting an older export is fine
    assert not list(backup.parent.glob("*.part")) and not list(backup.parent.glob("*-wal"))

    with Gallery.open(tmp_path / "b.db", MODEL, DIM) as g:  # restore on a new machine
        assert g.import_(backup) == 3
        assert [(p.name, p.templates, p.thumbnail) for p in g.people()] == [
            ("Ada", 2, b"ada"), ("Bob", 1, None)]
        assert [m.name for m in g.identify(np.stack([near(ada, rng), bob]), T)] == ["Ada", "Bob"]
        assert g.import_(backup) == 0  # merging the same backup again adds nothing
    assert sorted(f.name for f in backup.parent.iterdir()) == [backup.name]  # only read

    with Gallery.open(tmp_path / "c.db", MODEL, DIM) as g:
        g.enrol("ada", cy[None])  # same person by name (any case): merge adds templates
        g.enrol("Dee", unit(rng, 1))
        assert g.import_(backup, merge=True) == 3
        assert [(p.name, p.templates) for p in g.people()] == [("ada", 3), ("Bob", 1), ("Dee", 1)]
        assert g.import_(backup, merge=False) == 3  # replace: the gallery becomes the backup
        assert [(p.name, p.templates) for p in g.people()] == [("Ada", 2), ("Bob", 1)]
        assert g.identify(cy[None], T)[0].name is None and g.count_templates() == 3


def test_export_onto_itself_and_import_of_missing_file(gallery, tmp_path):
    with pytest.raises(GalleryError, match="onto itself"):
        gallery.export(gallery.path)
    with pytest.raises(GalleryError, match="no gallery export"):
        gallery.import_(tmp_path / "missing.db")


def test_closed_gallery_says_so(tmp_path, rng):
    g = Gallery.open(tmp_path / "g.db", MODEL, DIM)
    g.close()
    g.close()
    with pytest.raises(GalleryError, match="closed"):
        g.identify(unit(rng, 1), T)


def test_enrol_and_identify_from_two_threads(gallery, rng):
    """The GUI enrols while the inference thread identifies: both see a consistent gallery."""
    import threading

    vectors = unit(rng, 60)
    errors: list[BaseException] = []

    def enrol() -> None:
        try:
            for i, v in enumerate(vectors):
                gallery.enrol(f"P{i}", v[None])
        except BaseException as exc:  # reported below
            errors.append(exc)

    writer = threading.Thread(target=enrol)
    writer.start()
    while writer.is_alive():
        for m in gallery.identify(vectors, T):
            assert m.name is None or m.name.startswith("P")
    writer.join()
    assert not errors
    assert [m.name for m in gallery.identify(vectors, T)] == [f"P{i}" for i in range(60)]
