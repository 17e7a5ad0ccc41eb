"""The StylePanel driven offscreen with pytest-qt: real models, real photo, real files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from skimage import data

from facelens.app.style_panel import StylePanel
from facelens.style.overlay import Label
from test_style_usermodels import colour_mix_model, manifest

FACES = Path(__file__).resolve().parents[1] / ".." / "shared" / "faces-dev"


def real_photo() -> np.ndarray:
    path = FACES / "groups" / "bbt2.jpg"
    img = cv2.imread(str(path)) if path.is_file() else None
    if img is None:
        img = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    return cv2.resize(img, (320, 240), interpolation=cv2.INTER_AREA)


@pytest.fixture()
def panel(qtbot, tmp_path: Path):
    styles = tmp_path / "styles"
    styles.mkdir()
    manifest(colour_mix_model(styles / "sepia.onnx"), name="Sepia")
    colour_mix_model(styles / "orphan.onnx")  # no manifest: refused
    widget = StylePanel(home=tmp_path, provider="cpu")
    qtbot.addWidget(widget)
    widget.resize(900, 560)
    qtbot.waitUntil(lambda: widget.user_styles_loaded, timeout=15000)
    yield widget
    widget.shutdown()


def styled(panel: StylePanel, qtbot, frame: np.ndarray, labels=None) -> np.ndarray:
    """Submit `frame` and wait until the panel has shown its styled result."""
    panel.submit_frame(frame, labels)
    seq = panel.live.last_submitted
    qtbot.waitUntil(lambda: panel.last_info is not None and panel.last_info.seq >= seq,
                    timeout=15000)
    return panel.last_styled


def diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean())


def test_gallery_has_builtin_and_user_styles_with_thumbnails(panel: StylePanel, qtbot) -> None:
    keys = panel.style_keys()
    assert keys[:26] == [f"builtin:{i}" for i in range(26)]
    assert "user:Sepia" in keys
    assert "orphan.onnx" in panel.refused_label.text()
    assert "missing manifest" in panel.refused_label.text()
    assert panel.gallery.item(7).text() == "Style 7"
    qtbot.waitUntil(panel.thumbnails_ready, timeout=30000)


def test_live_styling_switching_strength_and_blend(panel: StylePanel, qtbot) -> None:
    photo = real_photo()
    with qtbot.waitSignal(panel.styled, timeout=15000) as blocker:
        panel.submit_frame(photo)
    first = blocker.args[0]
    assert first.shape == photo.shape and diff(first, photo) > 10
    panel.select_style("builtin:7")
    seven = styled(panel, qtbot, photo)
    panel.select_style("builtin:0")
    zero = styled(panel, qtbot, photo)
    assert diff(seven, zero) > 10
    panel.set_blend("builtin:7", 0.5)
    mixed = styled(panel, qtbot, photo)
    assert diff(mixed, seven) > 2 and diff(mixed, zero) > 2
    panel.set_blend(None)
    panel.set_strength(0.0)
    assert np.array_equal(styled(panel, qtbot, photo), photo)
    panel.set_strength(1.0)
    panel.select_style("user:Sepia")
    sepia = styled(panel, qtbot, photo)
    assert diff(sepia, photo) > 10
    assert "FPS" in panel.status.text()


def test_processing_size_and_smoothing(panel: StylePanel, qtbot) -> None:
    photo = cv2.resize(real_photo(), (640, 480))
    assert panel.renderer.process_size == "auto"  # the default
    panel.set_process_size((160, 120))
    assert panel.renderer.process_size == (160, 120)
    assert styled(panel, qtbot, photo).shape == photo.shape
    panel.set_smoothing(True)
    assert panel.renderer.smoother.amount > 0
    panel.set_process_size(None)
    assert styled(panel, qtbot, photo).shape == photo.shape
    assert panel.last_info.size == (640, 480)
    assert "styled at 640x480 in" in panel.status.text()  # no "shown at": not scaled


def test_default_styles_at_320x240_or_more_and_says_so(panel: StylePanel, qtbot) -> None:
    sizes = [panel.size_box.itemData(i) for i in range(panel.size_box.count())]
    assert all(s in ("auto", None) or s[0] >= 320 for s in sizes)
    assert panel.size_box.currentText() == "Auto (320x240 or more)"
    assert panel.detail_box.isChecked() and panel.renderer.detail
    photo = cv2.resize(real_photo(), (640, 480))
    for i in range(3):
        styled(panel, qtbot, np.roll(photo, 8 * i, axis=1))
    w, h = panel.last_info.size
    assert w >= 320 and h >= 240
    text = panel.status.text()
    assert f"styled at {w}x{h}, shown at 640x480 with detail" in text
    assert f"{panel.displayed_fps():.1f} FPS shown" in text
    panel.detail_box.setChecked(False)
    assert not panel.renderer.detail
    styled(panel, qtbot, photo)
    assert "shown at 640x480 in" in panel.status.text()


def test_style_from_picture_by_drop(panel: StylePanel, qtbot, tmp_path: Path) -> None:
    picture = tmp_path / "coffee.png"
    cv2.imwrite(str(picture), cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR))
    photo = real_photo()
    before = styled(panel, qtbot, photo)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(picture))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                       Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    panel.dropEvent(event)
    key = f"picture:{picture}"
    qtbot.waitUntil(lambda: key in panel.style_keys(), timeout=15000)
    assert panel.gallery.currentItem().data(Qt.ItemDataRole.UserRole) == key
    after = styled(panel, qtbot, photo)
    assert diff(after, photo) > 10 and diff(after, before) > 5


def test_labels_shown_or_hidden(panel: StylePanel, qtbot) -> None:
    photo = real_photo()
    labels = [Label((40, 60, 140, 180), "Alice", (0, 255, 0))]
    assert panel.show_labels
    shown = styled(panel, qtbot, photo, labels)
    assert tuple(shown[120, 40]) == (0, 255, 0)  # the box edge
    panel.show_labels = False
    assert not panel.labels_box.isChecked()
    hidden = styled(panel, qtbot, photo, labels)
    assert tuple(hidden[120, 40]) != (0, 255, 0)


def test_snapshot_and_recording_files_are_readable(panel: StylePanel, qtbot,
                                                   tmp_path: Path) -> None:
    photo = real_photo()
    last = styled(panel, qtbot, photo)
    snap = panel.snapshot(tmp_path / "snap.png")
    assert np.array_equal(cv2.imread(str(snap)), last)
    qtbot.mouseClick(panel.snapshot_button, Qt.MouseButton.LeftButton)
    assert len(list((tmp_path / "snapshots").glob("*.png"))) == 1

    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)  # start
    assert panel.record_button.isChecked()
    for i in range(6):
        styled(panel, qtbot, np.roll(photo, 4 * i, axis=1))
    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)  # stop
    videos = list((tmp_path / "recordings").glob("*.mp4"))
    assert len(videos) == 1
    cap = cv2.VideoCapture(str(videos[0]))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    assert len(frames) >= 6 and frames[0].shape == photo.shape
