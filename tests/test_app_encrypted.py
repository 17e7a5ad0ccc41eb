"""The app opens an encrypted gallery after asking for its passphrase, and says why not."""
# ruff: noqa: F811  (pytest fixtures imported from test_app are parameters here)

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QInputDialog

from facelens.app.main_window import MainWindow
from facelens.gallery import Gallery, default_db_path
from facelens.settings import Settings
from test_app import templates  # noqa: F401 (fixture shared with the app tests)


def _encrypted_home(tmp_path, engine, templates, phrase):
    home = tmp_path / "home"
    home.mkdir()
    with Gallery.open(default_db_path(home), engine.model_id, engine.dim) as g:
        for name, results in templates.items():
            g.enrol(name, np.stack([r.embedding for r in results]))
        g.encrypt(phrase)
    return home


def _window(qtbot, tmp_path, home, engine):
    window = MainWindow(home, Settings.load(home), engine=engine,
                        qsettings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat),
                        style_panel=False)
    qtbot.addWidget(window)
    return window


def test_passphrase_dialog_unlocks_the_gallery(qtbot, tmp_path, engine, templates, monkeypatch):
    home = _encrypted_home(tmp_path, engine, templates, "correct horse")
    monkeypatch.delenv("FACELENS_PASSPHRASE", raising=False)
    typed = iter(["wrong", "correct horse"])  # what the user types into the dialog
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (next(typed), True))
    window = _window(qtbot, tmp_path, home, engine)
    assert window.gallery is not None
    assert sorted(window.people.names()) == sorted(templates)


def test_cancelled_dialog_leaves_the_gallery_closed_and_says_so(qtbot, tmp_path, engine,
                                                                 templates, monkeypatch):
    home = _encrypted_home(tmp_path, engine, templates, "correct horse")
    before = default_db_path(home).read_bytes()
    monkeypatch.delenv("FACELENS_PASSPHRASE", raising=False)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", False))
    window = _window(qtbot, tmp_path, home, engine)
    assert window.gallery is None and window.controller is None
    assert "encrypted" in window.status.currentMessage()
    assert default_db_path(home).read_bytes() == before
