"""Issue 15.7: one damaged template no longer takes recognition down. The damaged row is
reported (who, which template) and left out; everyone else is still recognised; the app's
People tab and status bar and the kiosk's admin view say so."""

from __future__ import annotations

import sqlite3

import cv2
import pytest

from facelens.cli import main
from facelens.gallery import Gallery
from kiosk_support import SAVAGE_LIVE, living_stand_in

pytest.importorskip("pytestqt")

from facelens.app.kiosk_window import KioskWindow  # noqa: E402
from facelens.app.people_manager import PeopleManager  # noqa: E402
from facelens.attendance import AttendanceStore  # noqa: E402
from facelens.kiosk.audit import AuditLog  # noqa: E402
from facelens.kiosk.config import KioskConfig  # noqa: E402
from facelens.kiosk.pin import AdminPin  # noqa: E402
from facelens.kiosk.policy import Status  # noqa: E402
from facelens.kiosk.station import KioskStation  # noqa: E402

PHRASE = "correct horse battery"
PEOPLE = {"john_savage": ["1.jpg", "3.jpg"], "john_simm": ["1.jpg", "3.jpg"],
          "bbt_amy": ["1.png"]}


def _photo(faces_dev, person, name):
    return str(faces_dev / "people" / person / name)


def _emb(engine, faces_dev, person, name):
    return engine.analyze_photo(cv2.imread(_photo(faces_dev, person, name)))[0].embedding


@pytest.fixture
def home(tmp_path, faces_dev, monkeypatch, capsys):
    """An encrypted gallery (made with the CLI) in which one row of john_simm was altered."""
    monkeypatch.setenv("FACELENS_PASSPHRASE", PHRASE)
    h = ["--home", str(tmp_path)]
    for person, photos in PEOPLE.items():
        assert main([*h, "enrol", person, *(_photo(faces_dev, person, p) for p in photos)]) == 0
    assert main([*h, "gallery", "encrypt"]) == 0
    conn = sqlite3.connect(tmp_path / "gallery.db")
    tid, blob = conn.execute("SELECT t.id, t.vector FROM templates t JOIN people p ON "
                             "p.id = t.person_id WHERE p.name = 'john_simm' ORDER BY t.id "
                             "LIMIT 1").fetchone()
    flipped = bytearray(blob)
    flipped[40] ^= 0x01  # one bit of the ciphertext
    conn.execute("UPDATE templates SET vector = ? WHERE id = ?", (bytes(flipped), tid))
    conn.commit()
    conn.close()
    capsys.readouterr()
    return tmp_path, tid


def _open(engine, home):
    return Gallery.open(home / "gallery.db", engine.model_id, engine.dim, passphrase=PHRASE)


def test_damaged_row_is_reported_and_the_others_are_served(engine, faces_dev, home):
    path, tid = home
    with _open(engine, path) as g:  # was: GalleryError for the whole gallery
        assert [(d.template_id, d.name) for d in g.damaged] == [(tid, "john_simm")]
        assert "authentication failed" in g.damaged[0].why
        assert any(f"template {tid} of 'john_simm'" in w and "enrol them again" in w
                   for w in g.warnings)
        assert g.count_templates() == 4  # 5 enrolled, the damaged one left out
        for person, photo in [("john_savage", "2.jpg"), ("bbt_amy", "2.png"),
                              ("john_simm", "2.jpg")]:  # simm: by his intact template
            match = g.identify(_emb(engine, faces_dev, person, photo)[None], 0.3)[0]
            assert match.name == person, (person, match)
        assert g.verify("john_simm", _emb(engine, faces_dev, "john_simm", "2.jpg"), 0.3).name
        assert [p.name for p in g.people()] == ["bbt_amy", "john_savage", "john_simm"]


def test_clear_vector_in_an_encrypted_gallery_is_a_damaged_row(engine, faces_dev, home):
    path, _ = home
    conn = sqlite3.connect(path / "gallery.db")
    tid = conn.execute("SELECT t.id FROM templates t JOIN people p ON p.id = t.person_id "
                       "WHERE p.name = 'bbt_amy'").fetchone()[0]
    conn.execute("UPDATE templates SET vector = ? WHERE id = ?",
                 (_emb(engine, faces_dev, "john_salley", "1.jpg").astype("<f4").tobytes(), tid))
    conn.commit()
    conn.close()
    with _open(engine, path) as g:
        assert {(d.name, d.why) for d in g.damaged} >= {
            ("bbt_amy", "its vector is not encrypted although the gallery is")}
        salley = _emb(engine, faces_dev, "john_salley", "2.jpg")
        assert g.identify(salley[None], 0.3)[0].name is None  # the swapped-in face is not used


def test_commands_keep_working_and_warn(home, faces_dev, capsys):
    path, tid = home
    assert main(["--home", str(path), "identify", "--json",
                 _photo(faces_dev, "john_savage", "2.jpg")]) == 0
    out, err = capsys.readouterr()
    assert '"john_savage"' in out
    assert f"warning: template {tid} of 'john_simm' cannot be read" in err
    assert main(["--home", str(path), "gallery", "decrypt"]) == 2  # cannot re-seal it...
    assert "damaged templates; template" in capsys.readouterr().err
    assert main(["--home", str(path), "remove", "john_simm"]) == 0  # ...until it is removed
    assert main(["--home", str(path), "gallery", "decrypt"]) == 0


def test_people_tab_and_kiosk_admin_view_tell_the_admin(qtbot, engine, faces_dev, home):
    path, tid = home
    g = _open(engine, path)
    people = PeopleManager(g)
    qtbot.addWidget(people)
    assert people.damage_note.isVisibleTo(people)
    assert f"template {tid} of 'john_simm'" in people.damage_note.text()
    texts = [people.list.item(i).text() for i in range(people.list.count())]
    assert any(t.startswith("john_simm") and "1 damaged" in t for t in texts)

    t = [0.0]
    cfg = KioskConfig(min_sharpness=0, min_face_px=60)
    st = KioskStation(engine, g, cfg, AuditLog(path / "audit.db"),
                      AttendanceStore(path / "att.db"), clock=lambda: t[0])
    pin = AdminPin(path)
    pin.set("2468")
    w = KioskWindow(st, pin, locked=False)
    qtbot.addWidget(w)
    w.unlock()
    assert f"gallery: template {tid} of 'john_simm' damaged, not searched" in w.admin.text()
    assert "enrol them again, or restore a backup" in w.admin.text()
    for f in living_stand_in(faces_dev, "john_savage", SAVAGE_LIVE):  # the door still works
        t[0] += 0.1
        view = st.process(f)
        if view.status in (Status.GRANTED, Status.REFUSED):
            break
    assert view.status == Status.GRANTED and view.name == "john_savage"
    w.close()


def test_app_status_bar_and_people_tab_name_the_damaged_template(qtbot, engine, home,
                                                                  tmp_path):
    from PySide6.QtCore import QSettings

    from facelens.app.main_window import MainWindow
    from facelens.settings import Settings

    path, tid = home  # FACELENS_PASSPHRASE is set: no dialog
    window = MainWindow(path, Settings.load(path), engine=engine,
                        qsettings=QSettings(str(tmp_path / "w.ini"),
                                            QSettings.Format.IniFormat), style_panel=False)
    qtbot.addWidget(window)
    assert window.gallery is not None and window.controller is not None  # still recognising
    assert f"template {tid} of 'john_simm'" in window.status.currentMessage()
    assert f"template {tid} of 'john_simm'" in window.people.damage_note.text()
