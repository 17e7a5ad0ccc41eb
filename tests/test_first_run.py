"""The first-run wizard on the real window, engine and a video made from a dev photo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialogButtonBox, QWizard

from facelens.app import first_run
from facelens.app.main_window import MainWindow
from facelens.errors import GalleryError
from facelens.gallery import Gallery, default_db_path
from facelens.kiosk.pin import AdminPin
from facelens.live.synth import Actor, write_video
from facelens.settings import Settings

WAIT = 30_000  # ms, generous: the machine is shared (nothing is timed)


@pytest.fixture(scope="module")
def amy_video(tmp_path_factory, faces_dev):
    photo = sorted((faces_dev / "people" / "bbt_amy").iterdir())[0]
    return write_video(tmp_path_factory.mktemp("fr") / "amy.avi", [Actor.from_file(photo, "Amy")],
                       seconds=25, face_px=160)


@pytest.fixture
def window(qtbot, tmp_path, engine):
    home = tmp_path / "home"
    home.mkdir()
    win = MainWindow(home, Settings.load(home), engine=engine,
                     qsettings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat),
                     style_panel=False)
    qtbot.addWidget(win)
    win.show()
    return win


def _help_action(window):
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    return next(a for a in menus["&Help"].actions() if a.text().startswith("&First-run"))


def test_wizard_sets_up_source_enrolment_folder_pin_and_encryption(qtbot, window, amy_video,
                                                                   tmp_path):
    hint = window.people.empty_hint
    assert hint.isVisible() and "No one is enrolled" in hint.text()
    _help_action(window).trigger()
    wizard = window.first_run
    assert wizard.isVisible()
    source = wizard.pages["source"]
    source.source.setEditText(str(amy_video.path))
    assert source.preview()
    qtbot.waitUntil(lambda: source.picture.pixmap() is not None
                    and not source.picture.pixmap().isNull()
                    and window.video.scene is not None and bool(window.video.scene.faces),
                    timeout=WAIT)
    wizard.next()
    enrol = wizard.pages["enrol"]
    assert wizard.currentPage() is enrol and enrol.capture.isEnabled()
    enrol.capture.click()
    qtbot.waitUntil(lambda: window.enrol_dialog is not None and window.enrol_dialog.isVisible(),
                    timeout=WAIT)
    window.enrol_dialog.name_box.setCurrentText("Amy")
    assert window.enrol_dialog.capture.ok, window.enrol_dialog.verdict.text()
    window.enrol_dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: window.people.names() == ["Amy"], timeout=WAIT)
    assert "Amy" in enrol.people.text()
    assert not hint.isVisible()
    wizard.next()
    new_home = tmp_path / "elsewhere" / "data"
    wizard.pages["folder"].folder.setText(str(new_home))
    wizard.next()
    assert new_home.is_dir() and window.qsettings.value("data/home") == str(new_home)
    security = wizard.pages["security"]
    assert wizard.currentPage() is security
    security.pin.setText("12")  # too short: stays on the page and says why
    assert not security.validatePage()
    assert "4 to 12 ASCII digits" in security.error.text()
    assert not AdminPin(window.home).is_set()
    security.pin.setText("2468")
    security.encrypt.setChecked(True)
    security.passphrase.setText("correct horse")
    security.again.setText("correct horsf")
    assert not security.validatePage()
    assert "differ" in security.error.text()
    security.again.setText("correct horse")
    wizard.button(QWizard.WizardButton.FinishButton).click()
    assert not wizard.isVisible()
    assert AdminPin(window.home).check("2468").ok
    assert window.gallery.encrypted
    window.controller.stop()
    window.watcher.stop()  # it would look at the gallery closed under it (a load-dependent race)
    window.gallery.close()
    db, model, dim = default_db_path(window.home), window.engine.model_id, window.engine.dim
    with pytest.raises(GalleryError):
        Gallery.open(db, model, dim)
    with Gallery.open(db, model, dim, passphrase="correct horse") as g:
        assert [p.name for p in g.people()] == ["Amy"]
    assert first_run.maybe_open_wizard(window) is None  # finished: not shown again


def test_wizard_can_be_skipped_and_opens_only_until_then(qtbot, window):
    wizard = first_run.maybe_open_wizard(window)
    assert wizard is not None and wizard.isVisible()
    page = wizard.pages["source"]
    cams = page.find_cameras()  # the real cameras of this machine (none on a CI box)
    assert page.source.count() == len(cams)
    assert ("camera(s) found" if cams else "No camera found") in page.status.text()
    page.source.setEditText("")
    assert not page.preview() and "nothing chosen" in page.status.text()
    page.source.setEditText(str(window.home / "no-such-video.mp4"))
    assert not page.preview() and "cannot be opened" in page.status.text()
    wizard.button(QWizard.WizardButton.CustomButton1).click()  # "Skip setup"
    assert not wizard.isVisible()
    assert first_run.maybe_open_wizard(window) is None
    assert not AdminPin(window.home).is_set() and not window.gallery.encrypted
    _help_action(window).trigger()  # Help re-opens it after a skip
    assert window.first_run.isVisible()
