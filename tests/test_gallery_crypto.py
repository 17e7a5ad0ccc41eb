"""Encryption at rest of the gallery, on real SQLite files (and real face embeddings).

What is checked in the file itself is read raw with sqlite3 and as bytes: no template's
float32 bytes and no JPEG may appear in it once the gallery is encrypted.
"""

from __future__ import annotations

import json
import sqlite3

import cv2
import numpy as np
import pytest

from facelens.cli import main
from facelens.crypto import MAGIC
from facelens.gallery import Gallery, GalleryError, default_db_path, open_for_home

DIM = 192
MODEL = "lite/mobilefacenet-192"
T = 0.5
JPEG = b"\xff\xd8\xff"


def unit(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def jpeg(seed: int) -> bytes:
    img = np.random.default_rng(seed).integers(0, 255, (40, 32, 3), np.uint8)
    return cv2.imencode(".jpg", img)[1].tobytes()


def on_disk(path) -> bytes:
    """The gallery's bytes as they sit on disk: the file and any WAL next to it."""
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def raw_rows(path) -> list[tuple]:
    with sqlite3.connect(path) as raw:
        return raw.execute("SELECT id, vector, thumbnail FROM templates ORDER BY id").fetchall()


def assert_no_plaintext(path, vectors: np.ndarray, thumbs: list[bytes]) -> None:
    data = on_disk(path)
    for v in np.asarray(vectors, np.float32):
        assert v.astype("<f4").tobytes() not in data
        assert v.astype("<f4").tobytes()[:64] not in data  # not even a piece of one
    for t in thumbs:
        assert t[:64] not in data
    for _, vector, thumb in raw_rows(path):
        assert vector.startswith(MAGIC)
        assert thumb is None or (thumb.startswith(MAGIC) and JPEG not in thumb)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(11)


@pytest.fixture
def people(faces_dev):
    return faces_dev / "people"


@pytest.fixture
def sealed(tmp_path, rng):
    """An encrypted gallery file (passphrase 'pw') with Ada (2 templates) and Bob."""
    path = tmp_path / "gallery.db"
    vecs = unit(rng, 3)
    with Gallery.open(path, MODEL, DIM) as g:
        g.enrol("Ada", vecs[:2], thumbnails=[jpeg(1), None])
        g.enrol("Bob", vecs[2:], thumbnails=[jpeg(2)])
        g.encrypt("pw")
    return path, vecs


def test_real_faces_encrypted_at_rest_and_recognised_after_reopen(tmp_path, engine, people):
    from facelens.images import load_image

    path = tmp_path / "gallery.db"
    faces = {n: engine.analyze_photo(load_image(people / f"bbt_{n}" / "1.png"))[0]
             for n in ("amy", "sheldon")}
    thumbs = {n: cv2.imencode(".jpg", f.crop)[1].tobytes() for n, f in faces.items()}
    with Gallery.open(path, engine.model_id, engine.dim) as g:
        assert not g.encrypted
        for n, f in faces.items():
            g.enrol(n.title(), f.embedding[None], thumbnails=[thumbs[n]])
        assert g.encrypt("correct horse battery") == 2 and g.encrypted
    embs = np.stack([f.embedding for f in faces.values()])
    stored = embs / np.linalg.norm(embs, axis=1, keepdims=True)
    assert_no_plaintext(path, np.concatenate([embs, stored]), list(thumbs.values()))

    probe = engine.analyze_photo(load_image(people / "bbt_amy" / "2.png"))[0].embedding
    threshold = engine.default_threshold
    with Gallery.open(path, engine.model_id, engine.dim,
                      passphrase="correct horse battery") as g:
        assert g.encrypted and g.count_templates() == 2
        assert g.identify(probe[None], threshold)[0].name == "Amy"
        assert g.verify("Amy", probe, threshold).matched
        assert not g.verify("Sheldon", probe, threshold).matched
        assert {p.name: p.thumbnail for p in g.people()} == {
            "Amy": thumbs["amy"], "Sheldon": thumbs["sheldon"]}


def test_new_templates_of_an_encrypted_gallery_are_sealed(sealed, rng):
    path, _ = sealed
    more = unit(rng, 2)
    with Gallery.open(path, MODEL, DIM, passphrase="pw") as g:
        g.enrol("Cy", more, thumbnails=[jpeg(3), jpeg(4)])
        assert g.identify(more, T)[0].name == "Cy"
    assert_no_plaintext(path, more, [jpeg(3), jpeg(4)])


@pytest.mark.parametrize("passphrase, message", [
    (None, "is encrypted: give the passphrase with the FACELENS_PASSPHRASE"),
    ("", "is encrypted: give the passphrase"),
    ("wrong", "wrong passphrase"),
    (lambda: None, "is encrypted"),
])
def test_missing_or_wrong_passphrase_is_refused_and_file_unchanged(sealed, passphrase, message):
    path, _ = sealed
    before = path.read_bytes()
    files = sorted(p.name for p in path.parent.iterdir())
    with pytest.raises(GalleryError, match=message) as err:
        Gallery.open(path, MODEL, DIM, passphrase=passphrase)
    assert "Nothing was changed" in str(err.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == files


def test_passphrase_is_asked_for_only_when_encrypted(tmp_path, rng):
    asked = []

    def ask() -> str:
        asked.append(1)
        return "pw"

    with Gallery.open(tmp_path / "g.db", MODEL, DIM, passphrase=ask) as g:
        g.enrol("Ada", unit(rng, 1))
    assert asked == []
    with Gallery.open(tmp_path / "g.db", MODEL, DIM) as g:
        g.encrypt("pw")
    Gallery.open(tmp_path / "g.db", MODEL, DIM, passphrase=ask).close()
    assert asked == [1]


def test_tampered_ciphertext_gives_a_clear_error(sealed):
    path, vecs = sealed
    rows = raw_rows(path)
    flipped = bytearray(rows[0][1])
    flipped[40] ^= 1
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE templates SET vector = ? WHERE id = ?", (bytes(flipped), rows[0][0]))
    with Gallery.open(path, MODEL, DIM, passphrase="pw") as g:  # reported, not fatal (15.7)
        assert [d.template_id for d in g.damaged] == [rows[0][0]]
        assert "altered" in g.damaged[0].why and g.count_templates() == len(rows) - 1


def test_swapped_blobs_do_not_decrypt(sealed):
    """Each blob is bound to its row and purpose: moving one elsewhere is detected."""
    path, vecs = sealed
    (a, va, ta), (_, _, _), (c, vc, tc) = raw_rows(path)
    with sqlite3.connect(path) as raw:  # Bob's template given to Ada's first row
        raw.execute("UPDATE templates SET vector = ? WHERE id = ?", (vc, a))
    with Gallery.open(path, MODEL, DIM, passphrase="pw") as g:
        assert [(d.template_id, "altered or moved" in d.why) for d in g.damaged] == [(a, True)]
    with sqlite3.connect(path) as raw:  # back, then a thumbnail in Bob's row moved to Ada
        raw.execute("UPDATE templates SET vector = ? WHERE id = ?", (va, a))
        raw.execute("UPDATE templates SET thumbnail = ? WHERE id = ?", (tc, a))
    with Gallery.open(path, MODEL, DIM, passphrase="pw") as g:
        assert g.identify(vecs, T)[0].name == "Ada"
        ada = [p for p in g.people() if p.name == "Ada"][0]
        assert ada.thumbnail is None and "altered or moved" in g.damaged[0].why
    with sqlite3.connect(path) as raw:  # Bob's template moved to Ada (person id changed)
        raw.execute("UPDATE templates SET thumbnail = ?, person_id = 1 WHERE id = ?", (ta, c))
    with Gallery.open(path, MODEL, DIM, passphrase="pw") as g:
        assert [(d.template_id, d.name) for d in g.damaged] == [(c, "Ada")]


def test_encrypt_then_decrypt_round_trips_an_existing_gallery(tmp_path, rng):
    path = tmp_path / "gallery.db"
    vecs, other = unit(rng, 3), unit(rng, 1, 128)
    with Gallery.open(path, "other/model-128", 128) as g:
        g.enrol("Old", other, thumbnails=[jpeg(9)])
    with Gallery.open(path, MODEL, DIM) as g:
        g.enrol("Ada", vecs[:2], thumbnails=[jpeg(1), jpeg(2)])
        g.enrol("Bob", vecs[2:])
    before = raw_rows(path)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone() == (1,)

    with Gallery.open(path, MODEL, DIM) as g:
        assert g.encrypt("pw") == 4  # other-model templates are sealed too
        assert [m.name for m in g.identify(vecs, T)] == ["Ada", "Ada", "Bob"]
    assert_no_plaintext(path, np.concatenate([vecs, np.pad(other, ((0, 0), (0, 64)))]),
                        [jpeg(1), jpeg(2), jpeg(9)])
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone() == (2,)
        state = json.loads(raw.execute("SELECT value FROM meta").fetchone()[0])
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert state["cipher"] == "AES-256-GCM" and state["kdf"] == "scrypt" and state["salt"]

    with Gallery.open(path, MODEL, DIM, passphrase="pw") as g:
        assert g.decrypt() == 4 and not g.encrypted
    assert raw_rows(path) == before  # the very bytes stored before
    with Gallery.open(path, MODEL, DIM) as g:  # no passphrase needed any more
        assert [m.name for m in g.identify(vecs, T)] == ["Ada", "Ada", "Bob"]
        assert g.decrypt() == 0
    with Gallery.open(path, "other/model-128", 128) as g:
        assert g.identify(other, T)[0].name == "Old"
        assert {p.name: p.thumbnail for p in g.people()}["Old"] == jpeg(9)


def test_change_passphrase(sealed):
    path, vecs = sealed
    with Gallery.open(path, MODEL, DIM, passphrase="pw") as g:
        assert g.encrypt("new words") == 3
    with pytest.raises(GalleryError, match="wrong passphrase"):
        Gallery.open(path, MODEL, DIM, passphrase="pw")
    with Gallery.open(path, MODEL, DIM, passphrase="new words") as g:
        assert g.identify(vecs, T)[2].name == "Bob"


def test_an_open_gallery_follows_encryption_by_another_process(tmp_path, rng):
    path = tmp_path / "gallery.db"
    ada, bob = unit(rng, 2)
    with Gallery.open(path, MODEL, DIM, passphrase="pw") as gui, \
            Gallery.open(path, MODEL, DIM) as cli:
        gui.enrol("Ada", ada[None])
        cli.encrypt("pw")
        assert gui.identify(ada[None], T)[0].name == "Ada"  # re-unlocked with its passphrase
        gui.enrol("Bob", bob[None])
        assert cli.identify(bob[None], T)[0].name == "Bob"
        cli.decrypt()
        assert gui.identify(bob[None], T)[0].name == "Bob" and not gui.encrypted
    with Gallery.open(path, MODEL, DIM) as g, Gallery.open(path, MODEL, DIM) as other:
        g.encrypt("pw")
        with pytest.raises(GalleryError, match="is encrypted"):
            other.identify(ada[None], T)  # opened without a passphrase: cannot follow


def test_export_stays_encrypted_and_import_needs_the_passphrase(sealed, tmp_path, rng):
    path, vecs = sealed
    backup = tmp_path / "backup.db"
    with Gallery.open(path, MODEL, DIM, passphrase="pw") as g:
        g.export(backup)
        assert g.import_(backup) == 0  # same key: merging its own export adds nothing
    assert_no_plaintext(backup, vecs, [jpeg(1), jpeg(2)])
    with pytest.raises(GalleryError, match="wrong passphrase"):
        Gallery.open(backup, MODEL, DIM, passphrase="nope")

    fresh = tmp_path / "fresh.db"
    with Gallery.open(fresh, MODEL, DIM) as g:
        g.enrol("Zed", unit(rng, 1))
        before = raw_rows(fresh)
        with pytest.raises(GalleryError, match="is encrypted: give the passphrase"):
            g.import_(backup)
        with pytest.raises(GalleryError, match="wrong passphrase"):
            g.import_(backup, passphrase="nope")
        assert raw_rows(fresh) == before
        assert g.import_(backup, passphrase="pw") == 3
        assert g.import_(backup, passphrase="pw") == 0  # duplicates found in clear
        assert [m.name for m in g.identify(vecs, T)] == ["Ada", "Ada", "Bob"]
        assert {p.name: p.thumbnail for p in g.people()}["Bob"] == jpeg(2)
        g.encrypt("other phrase")
    with Gallery.open(fresh, MODEL, DIM, passphrase="other phrase") as g:
        assert g.import_(backup, merge=False, passphrase="pw") == 3  # re-sealed with its key
        assert [p.name for p in g.people()] == ["Ada", "Bob"]
    assert_no_plaintext(fresh, vecs, [jpeg(1), jpeg(2)])


def test_open_for_home_reads_the_environment(tmp_path, rng, monkeypatch):
    vec = unit(rng, 1)
    with open_for_home(tmp_path, MODEL, DIM) as g:
        g.enrol("Ada", vec)
        g.encrypt("from env")
    monkeypatch.delenv("FACELENS_PASSPHRASE", raising=False)
    with pytest.raises(GalleryError, match="FACELENS_PASSPHRASE"):
        open_for_home(tmp_path, MODEL, DIM, prompt=False)
    monkeypatch.setenv("FACELENS_PASSPHRASE", "from env")
    with open_for_home(tmp_path, MODEL, DIM, prompt=False) as g:
        assert g.identify(vec, T)[0].name == "Ada"
    assert g.path == default_db_path(tmp_path)


def run(capsys, *argv) -> tuple[int, list[dict], str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines() if line.strip()], err


def test_cli_encrypt_identify_decrypt_with_env_passphrase(capsys, tmp_path, people,
                                                          monkeypatch):
    home = str(tmp_path / "home")
    amy = str(people / "bbt_amy" / "1.png")
    probe = str(people / "bbt_amy" / "2.png")
    monkeypatch.delenv("FACELENS_PASSPHRASE", raising=False)
    monkeypatch.delenv("FACELENS_NEW_PASSPHRASE", raising=False)
    assert run(capsys, "--home", home, "enrol", "--json", "Amy", amy)[0] == 0
    code, out, err = run(capsys, "--home", home, "gallery", "encrypt", "--json")
    assert code == 2 and "FACELENS_PASSPHRASE" in out[0]["error"]  # no terminal, no passphrase

    monkeypatch.setenv("FACELENS_PASSPHRASE", "s3cret words")
    code, out, _ = run(capsys, "--home", home, "gallery", "encrypt", "--json")
    assert code == 0 and out[0]["encrypted"] and out[0]["templates"] == 1
    db = default_db_path(tmp_path / "home")
    assert_no_plaintext(db, np.zeros((0, DIM)), [])
    code, out, _ = run(capsys, "--home", home, "identify", "--json", probe)
    assert code == 0 and out[0]["faces"][0]["name"] == "Amy"
    code, out, _ = run(capsys, "--home", home, "people", "--json")
    assert code == 0 and out[0]["name"] == "Amy"

    monkeypatch.delenv("FACELENS_PASSPHRASE")
    before = db.read_bytes()
    code, out, err = run(capsys, "--home", home, "identify", "--json", probe)
    assert code == 2 and "is encrypted: give the passphrase" in out[0]["error"]
    code, out, _ = run(capsys, "--home", home, "gallery", "status", "--json")
    assert code == 0 and out[0]["encrypted"] is True
    monkeypatch.setenv("FACELENS_PASSPHRASE", "not it")
    code, out, err = run(capsys, "--home", home, "people", "--json")
    assert code == 2 and "wrong passphrase" in out[0]["error"]
    assert db.read_bytes() == before

    monkeypatch.setenv("FACELENS_PASSPHRASE", "s3cret words")
    monkeypatch.setenv("FACELENS_NEW_PASSPHRASE", "newer words")
    code, out, _ = run(capsys, "--home", home, "gallery", "change-passphrase", "--json")
    assert code == 0 and out[0]["templates"] == 1
    monkeypatch.setenv("FACELENS_PASSPHRASE", "newer words")
    code, out, _ = run(capsys, "--home", home, "gallery", "decrypt", "--json")
    assert code == 0 and out == [{"encrypted": False, "templates": 1}]
    monkeypatch.delenv("FACELENS_PASSPHRASE")
    code, out, _ = run(capsys, "--home", home, "identify", "--json", probe)
    assert code == 0 and out[0]["faces"][0]["name"] == "Amy"
    code, out, _ = run(capsys, "--home", home, "gallery", "status", "--json")
    assert out[0]["encrypted"] is False
