"""The real desktop app, offscreen, on videos made from ../shared/faces-dev photos.

Every check reads the window's own scene model (what the video view paints), not pixels.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox

from facelens.app.main_window import MainWindow
from facelens.gallery import Gallery, default_db_path
from facelens.live.photos import prepare_photos
from facelens.live.scene import NOT_RECOGNISED, RECOGNISED
from facelens.live.synth import Actor, write_video
from facelens.settings import Settings

ENROLLED = {"Amy": "bbt_amy", "Raj": "bbt_raj", "John Simm": "john_simm"}
STRANGER = "bbt_penny"
WAIT = 30_000  # ms; the machine is shared, so waits are generous (nothing is timed)


@pytest.fixture(scope="module")
def templates(engine, faces_dev):
    """Embeddings and thumbnails of photos 2-4 of each enrolled person (1 is in the video)."""
    out = {}
    for name, folder in ENROLLED.items():
        paths = sorted((faces_dev / "people" / folder).iterdir())[1:4]
        good = [r for r in prepare_photos(engine, paths) if r.ok]
        assert good, f"no usable enrolment photo for {name}"
        out[name] = good
    return out


@pytest.fixture(scope="module")
def videos(tmp_path_factory, faces_dev):
    """A crowd video (three enrolled people and a stranger), one face alone, a short clip."""
    root = tmp_path_factory.mktemp("videos")
    people = faces_dev / "people"

    def actor(folder, label):
        return Actor.from_file(next(iter(sorted((people / folder).iterdir()))), label)

    crowd = [actor(f, n) for n, f in ENROLLED.items()] + [actor(STRANGER, "stranger")]
    return {
        "crowd": write_video(root / "crowd.avi", crowd, seconds=25, face_px=140),
        "amy": write_video(root / "amy.avi", [actor("bbt_amy", "Amy")], seconds=25,
                           face_px=160),
        "short": write_video(root / "short.avi", [actor("bbt_raj", "Raj")], seconds=1.0),
    }


@pytest.fixture
def make_window(qtbot, tmp_path, engine, templates):
    """Open the real main window on a source, with the three people enrolled (or none)."""
    home = tmp_path / "home"
    home.mkdir()
    ini = str(tmp_path / "window.ini")

    def make(source=None, enrolled=True, settings=None):
        if enrolled:
            with Gallery.open(default_db_path(home), engine.model_id, engine.dim) as g:
                if not g.people():
                    for name, results in templates.items():
                        g.enrol(name, np.stack([r.embedding for r in results]))
        window = MainWindow(home, settings or Settings.load(home), engine=engine,
                            source=None if source is None else str(source),
                            qsettings=QSettings(ini, QSettings.Format.IniFormat),
                            style_panel=False)
        qtbot.addWidget(window)
        window.show()
        return window

    make.home = home
    make.ini = ini
    return make


def truth(video, scene, face):
    """The actor whose pasted photo holds the centre of `face` in that frame."""
    x1, y1, x2, y2 = face.box
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    for label, (a, b, c, d) in video.boxes[min(scene.frame_id, video.frames - 1)]:
        if a <= cx <= c and b <= cy <= d:
            return label
    return None


def everyone_labelled(window) -> bool:
    scene = window.video.scene
    if scene is None:
        return False
    names = sorted(f.name for f in scene.faces if f.state == RECOGNISED)
    strangers = [f for f in scene.faces if f.state == NOT_RECOGNISED]
    return names == sorted(ENROLLED) and len(strangers) == 1


def test_live_view_names_people_and_marks_the_stranger(make_window, videos, qtbot):
    window = make_window(videos["crowd"].path)
    qtbot.waitUntil(lambda: everyone_labelled(window), timeout=WAIT)
    seen = []
    for _ in range(15):  # labels stay put while the faces move (smoothing + hysteresis)
        qtbot.wait(100)
        scene = window.video.scene
        assert everyone_labelled(window), [f.label for f in scene.faces]
        for face in scene.faces:
            actor = truth(videos["crowd"], scene, face)
            expected = "stranger" if face.state == NOT_RECOGNISED else face.name
            assert actor == expected, (face, actor)
            if face.state == RECOGNISED:
                assert face.similarity >= window.controller.config.threshold
                assert face.label.startswith(face.name)
            else:
                assert face.label == "Not recognised"
        seen.append(scene.frame_id)
    assert seen == sorted(seen) and len(set(seen)) > 5  # the view keeps moving
    status = {k: window.status.text(k) for k in window.status.fields}
    assert status["resolution"] == "640x480"
    assert "crowd.avi" in status["source"]
    assert status["provider"].startswith("Provider: ") and status["pack"] == "Pack: lite"
    assert "FPS" in status["camera_fps"] and "FPS" in status["processed_fps"]
    assert "ms" in status["latency"]


def test_enrol_stranger_by_clicking_in_live_view(make_window, videos, qtbot):
    window = make_window(videos["crowd"].path)
    qtbot.waitUntil(lambda: everyone_labelled(window), timeout=WAIT)
    stranger = next(f for f in window.video.scene.faces if f.state == NOT_RECOGNISED)
    x1, y1, x2, y2 = stranger.box
    point = window.video.to_widget((x1 + x2) / 2, (y1 + y2) / 2).toPoint()
    qtbot.mouseClick(window.video, Qt.MouseButton.LeftButton, pos=point)
    qtbot.waitUntil(lambda: window.enrol_dialog is not None and window.enrol_dialog.isVisible(),
                    timeout=WAIT)
    dialog = window.enrol_dialog
    assert dialog.capture.ok, dialog.capture.reason
    assert dialog.capture.track_id == stranger.track_id
    assert "size" in dialog.details.text() and "sharpness" in dialog.details.text()
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()  # no name yet
    dialog.name_box.setCurrentText("Penny")
    assert ok.isEnabled()
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(f.name == "Penny" for f in window.video.scene.faces),
                    timeout=WAIT)
    assert "Penny" in window.people.names()
    claims = [window.verify.person.itemText(i) for i in range(window.verify.person.count())]
    assert "Penny" in claims


def test_enrol_largest_face_with_the_menu_action(make_window, videos, qtbot):
    window = make_window(videos["amy"].path, enrolled=False)
    qtbot.waitUntil(lambda: window.video.scene is not None and bool(window.video.scene.faces),
                    timeout=WAIT)
    assert window.video.scene.faces[0].state == NOT_RECOGNISED  # empty gallery
    assert window.actions["enrol_live"].shortcut().toString() == "Ctrl+E"
    window.actions["enrol_live"].trigger()
    qtbot.waitUntil(lambda: window.enrol_dialog is not None, timeout=WAIT)
    window.enrol_dialog.name_box.setCurrentText("Amy")
    window.enrol_dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: [f.name for f in window.video.scene.faces] == ["Amy"], timeout=WAIT)


def test_enrol_from_files_with_drop_progress_and_rejections(make_window, faces_dev, tmp_path,
                                                            qtbot):
    window = make_window(None)
    qtbot.waitUntil(lambda: window.controller is not None, timeout=WAIT)
    dialog = window.enrol_from_files("")
    dialog.name_box.setCurrentText("Howard")
    howard = sorted((faces_dev / "people" / "bbt_howard").iterdir())
    dialog.add_paths(howard[:3])
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not really a jpeg")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in
                  [*howard[3:], faces_dev / "nofaces" / "dog.jpg", broken]])
    drop = QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    dialog.dropEvent(drop)
    assert dialog.list.count() == 7
    dialog.enrol_button.click()
    qtbot.waitUntil(lambda: dialog.results is not None, timeout=WAIT * 2)
    assert dialog.progress.value() == dialog.progress.maximum() == 7
    text = dialog.summary.text()
    assert "Enrolled 5 photos for Howard" in text and "5 of 7 photos used" in text
    assert "dog.jpg: no face found" in text
    assert "broken.jpg: not a readable image" in text
    person = next(p for p in window.gallery.people() if p.name == "Howard")
    assert person.templates == 5 and person.thumbnail
    assert "Howard" in window.people.visible_names()


def test_verify_shows_match_and_no_match(make_window, videos, qtbot):
    window = make_window(videos["amy"].path)
    window.show_tab(window.verify)
    window.verify.claim("Amy")
    qtbot.waitUntil(lambda: window.verify.result is not None
                    and window.verify.result.similarity is not None, timeout=WAIT)
    result = window.verify.result
    assert result.match and window.verify.verdict.text() == "MATCH"
    assert f"{result.threshold:.2f}" in window.verify.detail.text()
    assert window.video.scene.verify.claimed == "Amy"
    window.verify.claim("Raj")
    qtbot.waitUntil(lambda: window.verify.result is not None
                    and window.verify.result.claimed == "Raj"
                    and window.verify.result.similarity is not None, timeout=WAIT)
    assert not window.verify.result.match
    assert window.verify.verdict.text() == "NO MATCH"
    assert window.verify.result.similarity < window.verify.result.threshold


def test_settings_persist_and_apply(make_window, videos, qtbot):
    window = make_window(videos["amy"].path)
    qtbot.waitUntil(lambda: window.controller is not None, timeout=WAIT)
    dialog = window.open_settings()
    assert "false-accept rate" in dialog.meaning.text()
    dialog.slider.setValue(62)
    assert "lower" in dialog.meaning.text() or "higher" in dialog.meaning.text()
    dialog.min_face.setValue(48)
    dialog.recheck.setValue(10)
    dialog.scale.setValue(0.4)
    dialog.accept()
    saved = Settings.load(make_window.home)
    assert (saved.threshold, saved.min_face, saved.recheck_frames) == (0.62, 48, 10)
    assert abs(saved.detect_scale - 0.4) < 1e-6
    config = window.controller.config
    assert (config.threshold, config.min_face, config.recheck_frames) == (0.62, 48, 10)
    window.resize(700, 500)  # within the offscreen screen (800x600)
    qtbot.wait(50)
    size = (window.width(), window.height())
    window.tabs.setCurrentWidget(window.verify)
    window.close()
    again = make_window(None)
    assert again.settings.threshold == 0.62
    assert (again.width(), again.height()) == size
    assert again.tabs.currentWidget() is again.verify


def test_cuda_request_falls_back_visibly(make_window, engine, qtbot):
    if engine.provider == "CUDA":
        pytest.skip("CUDA loads here, so there is no fallback to show")
    window = make_window(None)
    qtbot.waitUntil(lambda: window.controller is not None, timeout=WAIT)
    window.apply_settings(Settings(provider="cuda"))
    qtbot.waitUntil(lambda: "fell back" in window.status.text("provider"), timeout=WAIT * 2)
    assert window.engine.provider == "CPU"
    assert "CUDA" in window.open_settings().provider_note.text()


def test_source_end_and_failure_are_reported_and_app_stays_responsive(make_window, videos,
                                                                     tmp_path, qtbot):
    window = make_window(videos["short"].path)
    qtbot.waitUntil(lambda: window.last_event is not None and window.last_event.kind == "ended",
                    timeout=WAIT)
    assert "ended" in window.video.message
    qtbot.wait(500)  # the "stopped" that follows does not hide why it stopped
    assert "ended" in window.video.message
    window.open_source(str(tmp_path / "missing.avi"))
    assert window.last_event.kind == "failed" and "missing.avi" in window.video.message
    garbage = tmp_path / "garbage.avi"
    garbage.write_bytes(b"\0" * 1000)
    window.open_source(str(garbage))
    qtbot.waitUntil(lambda: window.last_event is not None and window.last_event.kind == "failed",
                    timeout=WAIT)
    assert "cannot open" in window.video.message
    window.open_source(str(videos["crowd"].path))  # still responsive: a new source works
    qtbot.waitUntil(lambda: everyone_labelled(window), timeout=WAIT)


def test_people_manager_search_rename_remove_export_import(make_window, tmp_path, qtbot,
                                                          monkeypatch):
    window = make_window(None)
    qtbot.waitUntil(lambda: window.controller is not None, timeout=WAIT)
    people = window.people
    assert people.visible_names() == sorted(ENROLLED)
    people.search.setText("ra")
    assert people.visible_names() == ["Raj"]
    people.search.clear()
    assert people.rename("Raj", "Rajesh")
    assert "Rajesh" in people.names() and people.selected() == "Rajesh"
    export = tmp_path / "backup.flgallery"
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getSaveFileName",
                        lambda *a, **k: (str(export), ""))
    people.buttons["export"].click()
    assert export.exists()
    monkeypatch.setattr("PySide6.QtWidgets.QMessageBox.question",
                        lambda *a, **k: QMessageBox.StandardButton.No)
    people.buttons["remove"].click()
    assert "Rajesh" in people.names()  # not confirmed: kept
    monkeypatch.setattr("PySide6.QtWidgets.QMessageBox.question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    people.buttons["remove"].click()
    assert "Rajesh" not in people.names()
    monkeypatch.setattr("PySide6.QtWidgets.QFileDialog.getOpenFileName",
                        lambda *a, **k: (str(export), ""))
    people.buttons["import"].click()
    assert "Rajesh" in people.names()
    assert "Rajesh" in [window.verify.person.itemText(i)
                        for i in range(window.verify.person.count())]


_RUN_APP = """
import argparse, json, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from facelens.app.main import run_app
from facelens.app.main_window import MainWindow

app = QApplication(sys.argv[:1])
seen = {}
deadline = time.monotonic() + 90

def poll():
    windows = [w for w in app.topLevelWidgets() if isinstance(w, MainWindow)]
    scene = windows[0].video.scene if windows else None
    if (scene is not None and scene.faces) or time.monotonic() > deadline:
        if windows:
            seen["faces"] = [f.label for f in scene.faces] if scene else []
            seen["tabs"] = [windows[0].tabs.tabText(i) for i in range(windows[0].tabs.count())]
            windows[0].close()
        app.quit()
        return
    QTimer.singleShot(200, poll)

QTimer.singleShot(200, poll)
code = run_app(argparse.Namespace(home=sys.argv[1], source=sys.argv[2]))
print(json.dumps({"code": code, **seen}))
"""


def test_facelens_without_arguments_runs_the_app(tmp_path, videos):
    """`facelens --source VIDEO` through run_app, in its own process (an application that has
    quit cannot be reused by later tests): it loads the engine itself and shows faces."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", _RUN_APP, str(tmp_path / "home"),
                           str(videos["amy"].path)], capture_output=True, text=True,
                          env=env, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["code"] == 0
    assert seen.get("faces") == ["Not recognised"]  # a fresh data folder: nobody enrolled
    assert seen["tabs"][:2] == ["People", "Verify"]


def test_style_panel_gets_the_scene_labels():
    from facelens.app.main_window import style_labels
    from facelens.live.scene import PipelineStats, Scene, SceneFace

    faces = (SceneFace(1, (10.0, 20.0, 110.0, 140.0), RECOGNISED, "Amy", 0.81),
             SceneFace(2, (200.0, 20.0, 300.0, 140.0), NOT_RECOGNISED, None, 0.2))
    scene = Scene(7, 0.0, 0.0, 640, 480, faces, np.zeros((480, 640, 3), np.uint8), None,
                  PipelineStats())
    labels = style_labels(scene)
    assert [lab.text for lab in labels] == ["Amy 0.81", "Not recognised"]
    assert labels[0].box == (10, 20, 110, 140) and labels[0].color != labels[1].color
