"""Issue 15.6: one spelling per name. Names are stored in NFC, invisible and reordering
characters are refused, and a name is found in any case and Unicode spelling."""

from __future__ import annotations

import re
import sqlite3
import unicodedata

import cv2
import pytest

from facelens.cli import main
from facelens.errors import GalleryError
from facelens.gallery import Gallery

NFC = unicodedata.normalize("NFC", "José")
NFD = unicodedata.normalize("NFD", "José")
T = 0.3


@pytest.fixture(scope="module")
def faces(engine, faces_dev):
    """Real embeddings of two people from the dev photos."""
    def emb(person, photo):
        return engine.analyze_photo(cv2.imread(str(faces_dev / "people" / person / photo)))[
            0].embedding

    return {"savage": [emb("john_savage", "1.jpg"), emb("john_savage", "3.jpg")],
            "simm": [emb("john_simm", "1.jpg")]}


@pytest.fixture
def gallery(engine, tmp_path):
    with Gallery.open(tmp_path / "gallery.db", engine.model_id, engine.dim) as g:
        yield g


def test_nfc_and_nfd_are_one_person(gallery, faces):
    assert NFC != NFD and len(NFD) == len(NFC) + 1
    gallery.enrol(NFC, faces["savage"][0][None])
    gallery.enrol(NFD, faces["savage"][1][None])  # the same name typed on another keyboard
    people = gallery.people()
    assert [(p.name, p.templates) for p in people] == [(NFC, 2)]
    assert gallery.identify(faces["savage"][1][None], T)[0].name == NFC


@pytest.mark.parametrize("typed", ["JOSÉ", "josé", NFD.upper(), "ｊｏｓé", "  josé  "])
def test_a_name_is_found_in_any_case_and_spelling(gallery, faces, typed):
    gallery.enrol(NFC, faces["savage"][0][None])
    assert gallery.verify(typed, faces["savage"][1], T).name == NFC  # verify by claimed name
    gallery.enrol(typed, faces["savage"][1][None])  # adds to José, no second person
    assert [(p.name, p.templates) for p in gallery.people()] == [(NFC, 2)]
    gallery.rename(typed, "José Savage")
    assert [p.name for p in gallery.people()] == ["José Savage"]
    assert gallery.remove("JOSÉ SAVAGE") == 2 and gallery.people() == []


def test_rename_onto_another_spelling_of_someone_else_is_refused(gallery, faces):
    gallery.enrol("josé", faces["savage"][0][None])
    gallery.enrol("Raj", faces["simm"][0][None])
    with pytest.raises(GalleryError, match="already exists"):
        gallery.rename("Raj", "JOSÉ")
    gallery.rename("josé", "José")  # one's own name in another case is fine
    assert sorted(p.name for p in gallery.people()) == ["José", "Raj"]


@pytest.mark.parametrize("bad, what", [
    ("Amy\u202eevil", "U+202E"),   # right-to-left override: "Amylive" on screen
    ("Amy\u2066x\u2069", "U+2066"),  # bidi isolate
    ("A\u200bmy", "U+200B"),       # zero-width space
    ("Am\u200dy", "U+200D"),       # zero-width joiner
    ("\ufeffAmy", "U+FEFF"),       # byte order mark
    ("Amy\u200e", "U+200E"),       # left-to-right mark
    ("Am\u00ady", "U+00AD"),       # soft hyphen
    ("Amy\u2028Lee", "U+2028"),    # line separator
    ("Amy\u3164", "U+3164"),       # Hangul filler: a letter that shows nothing
    ("Amy\x1b[31m", "U+001B"),     # terminal escape
])
def test_invisible_and_reordering_characters_are_refused(gallery, faces, bad, what):
    with pytest.raises(GalleryError, match=re.escape(what)) as err:
        gallery.enrol(bad, faces["simm"][0][None])
    assert "type the name without it" in str(err.value)
    assert gallery.people() == [] and gallery.count_templates() == 0


def test_whitespace_is_one_space(gallery, faces):
    gallery.enrol("Amy  Lee", faces["simm"][0][None])
    gallery.enrol("Amy\u00a0Lee", faces["simm"][0][None])  # no-break space looks the same
    assert [(p.name, p.templates) for p in gallery.people()] == [("Amy Lee", 2)]


def test_import_merges_other_spellings(engine, tmp_path, faces):
    with Gallery.open(tmp_path / "a.db", engine.model_id, engine.dim) as a:
        a.enrol("JOSÉ", faces["savage"][1][None])
        a.export(tmp_path / "backup.db")
    with Gallery.open(tmp_path / "b.db", engine.model_id, engine.dim) as b:
        b.enrol(NFD, faces["savage"][0][None])  # stored as NFC
        assert b.import_(tmp_path / "backup.db") == 1
        assert [(p.name, p.templates) for p in b.people()] == [(NFC, 2)]


def test_two_old_spellings_are_told_apart_or_reported(engine, tmp_path, faces):
    path = tmp_path / "old.db"
    with Gallery.open(path, engine.model_id, engine.dim) as g:
        g.enrol(NFC, faces["savage"][0][None])
    conn = sqlite3.connect(path)  # an older FaceLens stored an NFD twin next to it
    conn.execute("INSERT INTO people (name, created, updated) VALUES (?, 'x', 'x')", (NFD,))
    conn.commit()
    conn.close()
    with Gallery.open(path, engine.model_id, engine.dim) as g:
        assert len(g.people()) == 2
        g.rename(NFD, "Jose twin")  # the exact stored spelling still picks one
        assert g.verify("josé", faces["savage"][1], T).name == NFC
        with pytest.raises(GalleryError, match="already exists"):
            g.rename("Jose twin", NFD)  # the same name as José, in another spelling
    conn = sqlite3.connect(path)
    conn.execute("UPDATE people SET name = ? WHERE name = 'Jose twin'", (NFD,))
    conn.commit()
    conn.close()
    with Gallery.open(path, engine.model_id, engine.dim) as g:
        with pytest.raises(GalleryError, match="2 people are called 'JOSÉ'.*rename all but"):
            g.verify("JOSÉ", faces["savage"][1], T)


def test_cli_enrol_and_people_with_other_spellings(tmp_path, faces_dev, capsys):
    home = ["--home", str(tmp_path)]
    photo = str(faces_dev / "people" / "john_savage" / "1.jpg")
    other = str(faces_dev / "people" / "john_savage" / "3.jpg")
    assert main([*home, "enrol", NFC, photo]) == 0
    assert main([*home, "enrol", "JOSÉ", other]) == 0
    assert main([*home, "enrol", "Jo\u202ese", photo]) == 2
    err = capsys.readouterr().err
    assert "U+202E" in err
    assert main([*home, "people", "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count('"name"') == 1 and NFC in out
