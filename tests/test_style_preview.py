"""Style preview at 640x480 (issue 12 item 5): styled at 320x240 or more, scaled up with the
camera's detail, and the options bench; real models on real faces-dev photos."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import needs_faces_dev
from facelens.cli import main
from facelens.style import options
from facelens.style.live import LiveStyler
from facelens.style.models import multistyle_model
from facelens.style.render import AUTO, StyleRenderer
from facelens.style.styles import StyleLibrary
from facelens.style.upscale import upscale, upscale_with_detail

FACES = Path(__file__).resolve().parents[1] / ".." / "shared" / "faces-dev"
pytestmark = needs_faces_dev


def group_photo(w: int = 640, h: int = 480) -> np.ndarray:
    img = cv2.imread(str(FACES / "groups" / "bbt1.jpg"))
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)


def edges(bgr: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return np.abs(cv2.Sobel(grey, cv2.CV_32F, 1, 0)) + np.abs(cv2.Sobel(grey, cv2.CV_32F, 0, 1))


@pytest.fixture(scope="module")
def library() -> StyleLibrary:
    return StyleLibrary()


def test_detail_keeps_the_faces_lines_and_the_styles_colours(library, engine) -> None:
    photo = group_photo()
    faces = engine.detect(photo, 40)
    assert len(faces) >= 3
    small = cv2.resize(photo, (320, 240), interpolation=cv2.INTER_AREA)
    styled = StyleRenderer(library.builtin(7), process_size=None).render(small)
    plain, sharp = upscale(styled, (640, 480)), upscale_with_detail(styled, photo, small)
    assert sharp.shape == photo.shape and sharp.dtype == np.uint8
    e_photo, e_plain, e_sharp = edges(photo), edges(plain), edges(sharp)
    for face in faces:
        x0, y0, x1, y1 = (int(round(v)) for v in face.box[:4])
        box = (slice(max(0, y0), y1), slice(max(0, x0), x1))
        # the face's own lines are back: stronger edges that follow the camera picture's
        assert e_sharp[box].mean() > 1.15 * e_plain[box].mean()
        corr = [np.corrcoef(e[box].ravel(), e_photo[box].ravel())[0, 1] for e in (e_plain, e_sharp)]
        assert corr[1] > corr[0] + 0.1
    # only fine detail is added: blurred, the two pictures have the same colours
    blur = [cv2.GaussianBlur(x, (0, 0), 4).astype(np.float32) for x in (plain, sharp)]
    assert np.abs(blur[0] - blur[1]).mean() < 3.0
    assert np.array_equal(upscale_with_detail(styled, photo, small, amount=0), plain)


def test_renderer_detail_setting(library) -> None:
    photo = group_photo()
    renderer = StyleRenderer(library.builtin(3), process_size=(320, 240))
    plain = renderer.render(photo)
    renderer.configure(detail=True)
    sharp = renderer.render(photo)
    assert renderer.detail and plain.shape == sharp.shape == photo.shape
    assert edges(sharp).mean() > 1.1 * edges(plain).mean()
    full = StyleRenderer(library.builtin(3), process_size=None, detail=True)
    assert np.array_equal(full.render(photo), StyleRenderer(library.builtin(3),
                                                            process_size=None).render(photo))


def test_live_path_delivers_640x480_styled_at_320x240_or_more(library) -> None:
    frames = options.synthetic_frames(FACES, n=12)
    assert frames[0].shape == (480, 640, 3)
    renderer = StyleRenderer(library.builtin(0), process_size=AUTO, detail=True)
    got: list[tuple[tuple[int, ...], tuple[int, int]]] = []
    done = threading.Event()

    def on_result(bgr: np.ndarray, info) -> None:
        got.append((bgr.shape, info.size))
        if len(got) >= 6:
            done.set()

    live = LiveStyler(renderer, on_result, workers=2)
    try:
        for frame in frames:
            live.submit(frame)
            time.sleep(0.05)
        while not done.is_set() and len(got) < 6:
            live.submit(frames[len(got) % len(frames)])
            done.wait(1.0)
    finally:
        live.stop()
    assert len(got) >= 6
    for shape, size in got:
        assert shape == (480, 640, 3)
        assert size[0] >= 320 and size[1] >= 240 and size != (160, 120)


def test_derived_models_are_checked_against_fp32(tmp_path: Path) -> None:
    """The bench's int8 and fp16 copies against the fp32 network on held-out frames."""
    frames = options.synthetic_frames(FACES, n=12)
    fp32 = multistyle_model()
    ref = options._session(fp32, 1)
    same = options.compare(ref, options._session(fp32, 1), frames[6:8])
    assert same["psnr_db"] == float("inf") and same["mean_abs_diff_255"] == 0
    int8 = options.quantize_int8(fp32, tmp_path / "int8.onnx", frames[:2])
    q = options.compare(ref, options._session(int8, 1), frames[6:8])
    assert 10 < q["psnr_db"] < 60 and q["mean_abs_diff_255"] > 0.1  # a different network
    fp16 = options.convert_fp16(fp32, tmp_path / "fp16.onnx")
    h = options.compare(ref, options._session(fp16, 1), frames[6:8])
    assert h["psnr_db"] >= options.MIN_PSNR_DB and h["mean_abs_diff_255"] < 1.0


def test_options_bench_prints_every_option(capsys: pytest.CaptureFixture) -> None:
    assert main(["bench-style", "--options", "--photos", str(FACES), "--seconds", "0.5",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result["models"]) == {"fp32", "int8_qdq", "fp16"}
    for name, row in result["models"].items():
        assert row["cpu_ms_320x240_1thread"] > 0 and row["ms_640x480_2threads"] > 0
        if name != "fp32":
            assert row["accepted"] == (row["psnr_db"] >= result["min_psnr_db"])
    assert len(result["session"]) == 4 and set(result["upscale"]) == {"bilinear", "detail"}
    default = result["live"]["auto + detail (default)"]
    assert all(int(k.split("x")[0]) >= 320 for k in default["styled_at"])
    assert len(result["live"]) == 5


def test_options_bench_refuses_a_missing_photo_folder(tmp_path: Path, capsys) -> None:
    assert main(["bench-style", "--options", "--photos", str(tmp_path / "none")]) == 2
    assert "not a folder" in capsys.readouterr().err
    (tmp_path / "empty" / "people").mkdir(parents=True)
    assert main(["bench-style", "--options", "--photos", str(tmp_path / "empty")]) == 2
    assert "no face photos" in capsys.readouterr().err
