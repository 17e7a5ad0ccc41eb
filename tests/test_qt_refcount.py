"""Qt calls must not lose references to None (issue 14.1).

PySide6 6.12.0 on CPython 3.11 dropped one reference to None on every Qt call returning
nothing (`QPainter.setPen`, `drawRect`, `QWidget.update`, `QLabel.setText`, ...). The live view
makes dozens of such calls per frame, so None's count reached zero after 80-180 s and the
window died with "Fatal Python error: none_dealloc". Under such a build the counts below fall
by thousands; pyproject.toml excludes it. (From CPython 3.12 None is immortal: nothing to lose.)
"""

from __future__ import annotations

import gc
import sys
import time

import numpy as np
import pytest
from PySide6.QtWidgets import QLabel

from facelens.app.video_view import VideoView
from facelens.gallery import Gallery
from facelens.live.recognise import LiveConfig, Recogniser
from facelens.live.scene import NOT_RECOGNISED, RECOGNISED
from facelens.live.sources import Frame
from facelens.live.synth import Actor, render

CALLS = 1000
TOLERANCE = 50  # None's count may move a little as objects come and go; a leak moves it >= 1000


class CountingView(VideoView):
    """The real live view, counting its paints (so the test knows they happened)."""

    paints = 0

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().paintEvent(event)
        self.paints += 1


def none_refs() -> int:
    gc.collect()
    return sys.getrefcount(None)


@pytest.fixture(scope="module")
def scene(engine, faces_dev, tmp_path_factory):
    """A real scene: the pipeline's labels for a frame with two enrolled people and a stranger."""
    people = faces_dev / "people"
    enrolled = {"Amy": "bbt_amy", "Raj": "bbt_raj"}
    gallery = Gallery.open(tmp_path_factory.mktemp("g") / "gallery.db", engine.model_id,
                           engine.dim)
    for name, folder in enrolled.items():
        photos = sorted((people / folder).iterdir())[1:3]
        embs = [engine.analyze_photo(Actor.from_file(p).image, min_face=20)[0].embedding
                for p in photos]
        gallery.enrol(name, np.stack(embs))
    actors = [Actor.from_file(sorted((people / f).iterdir())[0], n) for n, f in enrolled.items()]
    actors.append(Actor.from_file(sorted((people / "bbt_penny").iterdir())[0], "stranger"))
    image, _ = next(render(actors, seconds=0.1, face_px=140))
    recogniser = Recogniser(engine, lambda: gallery, LiveConfig(engine.default_threshold))
    result = None
    for i in range(3):  # labels settle over a few frames (smoothing)
        result = recogniser.process(Frame(i, time.monotonic(), image))
    states = sorted(f.state for f in result.faces)
    assert states == [NOT_RECOGNISED, RECOGNISED, RECOGNISED], result.faces
    yield result
    gallery.close()


def test_painting_the_live_view_keeps_none_referenced(qtbot, scene):
    view = CountingView()
    qtbot.addWidget(view)
    view.resize(640, 480)
    view.show()
    qtbot.waitExposed(view)
    view.show_scene(scene)
    view.set_message("source ended")  # the message band is painted too
    view.grab()
    before, painted = none_refs(), view.paints
    for _ in range(CALLS):
        view.grab()  # renders the widget: paintEvent, with boxes, labels and the frame
    after = none_refs()
    assert view.paints - painted == CALLS
    assert abs(after - before) < TOLERANCE, f"None's count moved by {after - before}"


def test_label_updates_keep_none_referenced(qtbot):
    label = QLabel("FPS")
    qtbot.addWidget(label)
    label.show()
    before = none_refs()
    for i in range(CALLS):
        label.setText(f"{i} FPS")
        label.update()
        label.setToolTip("camera")
    after = none_refs()
    assert label.text() == f"{CALLS - 1} FPS"
    assert abs(after - before) < TOLERANCE, f"None's count moved by {after - before}"
