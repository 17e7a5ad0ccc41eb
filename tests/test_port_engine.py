"""The engine port: the recipe's declared kinds pick the model classes; shared face helpers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from facelens.engine import faces, models, ports
from facelens.engine.faces import Face, iou_matrix, largest_face, nms
from facelens.errors import ModelPackError


def _face(x1, y1, x2, y2, score=0.9) -> Face:
    return Face(np.array([x1, y1, x2, y2], np.float32), np.zeros((5, 2), np.float32), score)


def test_lite_roles_come_from_the_recipe(engine):
    assert engine.pack.recipe["roles"]["detector"]["kind"] == "mtcnn"
    assert type(engine.detector).__name__ == "MtcnnDetector"
    assert type(engine.embedder).__name__ == "MobileFaceNetEmbedder"
    assert isinstance(engine.detector, ports.Detector)
    assert isinstance(engine.embedder, ports.Embedder)
    assert engine.has_antispoof and isinstance(engine.antispoof(), ports.AntiSpoof)
    assert engine.antispoof_session() is engine.antispoof().session


def test_unknown_kind_is_refused_with_what_to_fix(engine):
    recipe = {**engine.pack.recipe, "roles": {**engine.pack.recipe["roles"],
                                              "detector": {"kind": "retinaface", "files": []}}}
    pack = dataclasses.replace(engine.pack, recipe=recipe)
    with pytest.raises(ModelPackError, match=r"detector kind 'retinaface' is unknown "
                                             r"\(known: mtcnn, yunet\); fix the recipe"):
        models.create_detector(pack)


def test_a_pack_without_a_role_says_so(engine):
    roles = {k: v for k, v in engine.pack.recipe["roles"].items() if k != "antispoof"}
    pack = dataclasses.replace(engine.pack, recipe={**engine.pack.recipe, "roles": roles})
    with pytest.raises(ModelPackError, match="has no antispoof model"):
        models.create_antispoof(pack)


def test_largest_face_is_the_longest_shorter_side():
    wide = _face(0, 0, 200, 30)  # the largest area, but a short side of 30
    near = _face(0, 0, 60, 60)
    assert largest_face([wide, near]) is near
    assert largest_face([]) is None


def test_iou_and_nms():
    a = np.array([[0, 0, 10, 10], [5, 0, 15, 10]], np.float32)
    assert iou_matrix(a, a[:1])[:, 0] == pytest.approx([1.0, 50 / 150])
    keep = nms(np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], float),
               np.array([0.9, 0.8, 0.7]), 0.5)
    assert list(keep) == [0, 2]


def test_tracker_and_kiosk_use_the_engine_helpers():
    from facelens.kiosk import station
    from facelens.live import tracker

    assert tracker.iou_matrix is faces.iou_matrix
    assert station.iou_matrix is faces.iou_matrix and station.largest_face is faces.largest_face


def test_engine_modules_import_no_qt():
    import subprocess
    import sys

    code = ("import sys; import facelens.engine.recognizer, facelens.engine.models; "
            "print(any(m.startswith('PySide6') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
