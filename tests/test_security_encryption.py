"""Issue 15.3: encryption is bound to the installation. An encrypted gallery whose encryption
settings were deleted and whose templates were swapped for clear ones is refused loudly, by
every command, the app's opener and the kiosk."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest

from facelens.cli import main
from facelens.errors import GalleryError
from facelens.gallery import open_for_home
from facelens.kiosk.config import KioskConfig
from facelens.kiosk.factory import open_station
from facelens.settings import Settings

PHRASE = "correct horse battery"


def _photo(faces_dev, person, name):
    return str(faces_dev / "people" / person / name)


@pytest.fixture
def home(tmp_path, faces_dev, monkeypatch, capsys):
    """A data folder with two people enrolled by the CLI, then `gallery encrypt`ed."""
    monkeypatch.setenv("FACELENS_PASSPHRASE", PHRASE)
    h = ["--home", str(tmp_path)]
    assert main([*h, "enrol", "john_savage", _photo(faces_dev, "john_savage", "1.jpg")]) == 0
    assert main([*h, "enrol", "bbt_amy", _photo(faces_dev, "bbt_amy", "1.png")]) == 0
    assert main([*h, "gallery", "encrypt"]) == 0
    assert Settings.load(tmp_path).gallery_encrypted
    capsys.readouterr()
    return tmp_path


def _swap_for_clear(home, engine, faces_dev) -> None:
    """What an attacker with file access does: delete the encryption row, put their own face
    (john_simm) in clear into john_savage's template."""
    import cv2

    attacker = engine.analyze_photo(cv2.imread(_photo(faces_dev, "john_simm", "1.jpg")))[0]
    conn = sqlite3.connect(home / "gallery.db")
    conn.execute("DELETE FROM meta WHERE key = 'encryption'")
    pid = conn.execute("SELECT id FROM people WHERE name = 'john_savage'").fetchone()[0]
    conn.execute("UPDATE templates SET vector = ?, thumbnail = NULL WHERE person_id = ?",
                 (np.asarray(attacker.embedding, "<f4").tobytes(), pid))
    conn.execute("UPDATE templates SET vector = zeroblob(4 * dim), thumbnail = NULL "
                 "WHERE person_id != ?", (pid,))
    conn.commit()
    conn.close()


def test_swapped_clear_gallery_is_refused_everywhere(home, engine, faces_dev, monkeypatch,
                                                     capsys):
    _swap_for_clear(home, engine, faces_dev)
    monkeypatch.delenv("FACELENS_PASSPHRASE")  # the attacker needs no passphrase any more
    h = ["--home", str(home)]
    attacker = _photo(faces_dev, "john_simm", "2.jpg")
    assert main([*h, "identify", attacker]) == 2  # was: "john_savage", silently
    err = capsys.readouterr().err
    assert "is NOT encrypted, but this installation encrypted it" in err
    assert "restore the encrypted gallery from a backup" in err.lower()
    assert main([*h, "gallery", "status", "--json"]) == 2
    out, err = capsys.readouterr()
    status, problem = (json.loads(line) for line in out.splitlines())  # --json: both on stdout
    assert "NOT encrypted" in problem["error"]
    assert status | {"path": ""} == {"path": "", "exists": True, "encrypted": False,
                                             "expected_encrypted": True}
    with pytest.raises(GalleryError, match="NOT encrypted"):
        open_for_home(home, engine.model_id, engine.dim, prompt=False)  # the app's way in
    with pytest.raises(GalleryError, match="NOT encrypted"):
        open_station(home, engine=engine)  # the kiosk never starts on it
    assert main([*h, "gallery", "encrypt"]) == 2  # cannot be re-sealed as if it were fine
    # the admin's explicit choice, after checking the people
    assert main([*h, "gallery", "decrypt", "--accept-unencrypted"]) == 0
    assert not Settings.load(home).gallery_encrypted
    assert main([*h, "identify", attacker]) == 0


def test_altered_key_check_is_refused(home, engine):
    conn = sqlite3.connect(home / "gallery.db")
    state = json.loads(conn.execute("SELECT value FROM meta WHERE key = 'encryption'")
                       .fetchone()[0])
    state["check"] = state["check"][:-2] + ("00" if state["check"][-2:] != "00" else "11")
    conn.execute("UPDATE meta SET value = ? WHERE key = 'encryption'", (json.dumps(state),))
    conn.commit()
    conn.close()
    with pytest.raises(GalleryError, match="key check was altered"):
        open_station(home, engine=engine)


def test_decrypt_unbinds_and_encrypt_binds_again(home, engine, faces_dev, monkeypatch, capsys):
    h = ["--home", str(home)]
    assert main([*h, "gallery", "decrypt"]) == 0
    assert not Settings.load(home).gallery_encrypted
    monkeypatch.delenv("FACELENS_PASSPHRASE")
    assert main([*h, "identify", _photo(faces_dev, "john_savage", "2.jpg")]) == 0
    assert main([*h, "gallery", "status"]) == 0
    monkeypatch.setenv("FACELENS_PASSPHRASE", PHRASE)
    assert main([*h, "gallery", "encrypt"]) == 0 and Settings.load(home).gallery_encrypted
    capsys.readouterr()


def test_encrypted_kiosk_needs_an_encrypted_gallery(tmp_path, faces_dev, engine, monkeypatch,
                                                    capsys):
    import io

    h = ["--home", str(tmp_path)]
    assert main([*h, "enrol", "john_savage", _photo(faces_dev, "john_savage", "1.jpg")]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PHRASE + "\n"))
    assert main([*h, "kiosk", "set-passphrase"]) == 0
    assert KioskConfig.load(tmp_path).encryption_salt
    monkeypatch.setenv("FACELENS_PASSPHRASE", PHRASE)
    with pytest.raises(GalleryError, match="the kiosk is encrypted .* but the gallery"):
        open_station(tmp_path, engine=engine)
    assert main([*h, "gallery", "encrypt"]) == 0
    station = open_station(tmp_path, engine=engine)
    assert station.gallery.encrypted and station.gallery.count_templates() == 1
    station.gallery.close()
    capsys.readouterr()


def test_app_refuses_the_swapped_gallery_and_says_why(qtbot, home, engine, faces_dev,
                                                      monkeypatch, tmp_path):
    from PySide6.QtCore import QSettings

    from facelens.app.main_window import MainWindow

    _swap_for_clear(home, engine, faces_dev)
    monkeypatch.delenv("FACELENS_PASSPHRASE")
    window = MainWindow(home, Settings.load(home), engine=engine,
                        qsettings=QSettings(str(tmp_path / "w.ini"),
                                            QSettings.Format.IniFormat), style_panel=False)
    qtbot.addWidget(window)
    assert window.gallery is None and window.controller is None  # nobody is mislabelled
    assert "NOT encrypted" in window.status.currentMessage()
