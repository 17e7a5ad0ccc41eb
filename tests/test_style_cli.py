"""`facelens stylize` and `facelens bench-style` end to end, with the real models."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from facelens.cli import main


@pytest.fixture()
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "astronaut.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    return path


def make_video(path: Path, frames: int = 8) -> Path:
    big = cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (176, 136))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (160, 120))
    for i in range(frames):
        writer.write(big[i:i + 120, i:i + 160].copy())
    writer.release()
    return path


def test_stylize_image_json(photo: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out.png"
    rc = main(["--home", str(tmp_path), "stylize", "--style", "7", "--size", "256x256",
               "--json", str(photo), str(out)])
    assert rc == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["kind"] == "image" and result["style"] == "Style 7"
    styled, orig = cv2.imread(str(out)), cv2.imread(str(photo))
    assert styled.shape == orig.shape
    assert np.abs(styled.astype(float) - orig).mean() > 10


def test_stylize_with_picture_and_blend(photo: Path, tmp_path: Path) -> None:
    style_pic = tmp_path / "coffee.png"
    cv2.imwrite(str(style_pic), cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR))
    out = tmp_path / "out.jpg"
    rc = main(["--home", str(tmp_path), "stylize", "--style", str(style_pic), "--blend", "3",
               "--strength", "0.8", str(photo), str(out)])
    assert rc == 0 and cv2.imread(str(out)) is not None


def test_stylize_video_with_progress(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = make_video(tmp_path / "in.mp4")
    dst = tmp_path / "out.mp4"
    rc = main(["--home", str(tmp_path), "stylize", "--style", "style19", "--smooth", "0.5",
               str(src), str(dst)])
    assert rc == 0
    assert "8/8 frames" in capsys.readouterr().err
    cap = cv2.VideoCapture(str(dst))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 8


def test_stylize_errors_exit_nonzero(photo: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture) -> None:
    home = ["--home", str(tmp_path)]
    assert main([*home, "stylize", "--style", "99", str(photo), str(tmp_path / "o.png")]) == 2
    assert "0 to 25" in capsys.readouterr().err
    assert main([*home, "stylize", "--style", "1", str(tmp_path / "none.jpg"),
                 str(tmp_path / "o.png")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main([*home, "stylize", "--style", "1", "--strength", "2", str(photo),
                 str(tmp_path / "o.png")]) == 2


def test_bench_style_json_keys(capsys: pytest.CaptureFixture) -> None:
    assert main(["bench-style", "--seconds", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("style_ms_320x240", "style_ms_640x480", "fps_displayed_640x480",
                "latency_p95_ms"):
        assert result[key] > 0


def test_stylize_with_a_user_model(photo: Path, tmp_path: Path) -> None:
    from test_style_usermodels import colour_mix_model, manifest

    (tmp_path / "styles").mkdir()
    manifest(colour_mix_model(tmp_path / "styles" / "sepia.onnx"), name="Sepia")
    out = tmp_path / "sepia.png"
    assert main(["--home", str(tmp_path), "stylize", "--style", "Sepia", str(photo),
                 str(out)]) == 0
    b, g, r = (cv2.imread(str(out))[..., c].astype(float).ravel() for c in range(3))
    assert np.corrcoef(r, b)[0, 1] > 0.98


def test_unreadable_video_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00" * 2048)
    assert main(["--home", str(tmp_path), "stylize", "--style", "1", str(bad),
                 str(tmp_path / "o.mp4")]) == 2
    assert "broken.mp4" in capsys.readouterr().err
