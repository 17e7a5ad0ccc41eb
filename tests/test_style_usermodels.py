"""User ONNX style models: a tiny real network built here, loaded and run; bad ones refused."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from facelens.style import StyleError, StyleRenderer
from facelens.style.styles import StyleLibrary
from facelens.style.usermodels import load_user_style, scan_styles_folder

SEPIA = np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]],
                 np.float32)


def colour_mix_model(path: Path, layout: str = "NCHW", scale: float = 1.0,
                     fixed: int | None = None) -> Path:
    """A real ONNX network: 3x3 conv that mixes colours (sepia) and softens, then clips."""
    kernel = np.zeros((3, 3, 3, 3), np.float32)
    blur = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 16
    for o in range(3):
        for i in range(3):
            kernel[o, i] = SEPIA[o, i] * blur
    h = w = fixed if fixed else None
    dims = [1, 3, h or "h", w or "w"] if layout == "NCHW" else [1, h or "h", w or "w", 3]
    nodes, conv_in, conv_out = [], "image", "styled"
    if layout == "NHWC":
        nodes.append(helper.make_node("Transpose", ["image"], ["nchw"], perm=[0, 3, 1, 2]))
        conv_in, conv_out = "nchw", "styled_nchw"
    nodes.append(helper.make_node("Conv", [conv_in, "k"], ["mixed"], pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("Clip", ["mixed", "lo", "hi"], [conv_out]))
    if layout == "NHWC":
        nodes.append(helper.make_node("Transpose", ["styled_nchw"], ["styled"], perm=[0, 2, 3, 1]))
    graph = helper.make_graph(
        nodes, "sepia",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info("styled", TensorProto.FLOAT, dims)],
        [numpy_helper.from_array(kernel, "k"),
         numpy_helper.from_array(np.array(0.0, np.float32), "lo"),
         numpy_helper.from_array(np.array(scale, np.float32), "hi")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def manifest(path: Path, **fields: object) -> Path:
    data = {"name": path.stem.title(), "licence": "MIT", "layout": "NCHW", "range": "0..1"}
    data.update(fields)
    json_path = path.with_suffix(".json")
    json_path.write_text(json.dumps(data))
    return json_path


def photo() -> np.ndarray:
    from skimage import data

    return cv2.resize(cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR), (130, 98))


def test_user_model_with_manifest_loads_and_styles(tmp_path: Path) -> None:
    model = colour_mix_model(tmp_path / "sepia.onnx")
    manifest(model, name="Sepia")
    style = load_user_style(model)
    assert style.name == "Sepia" and style.licence == "MIT" and style.fixed is None
    img = photo()
    out = StyleRenderer(style, process_size=None).render(img)
    assert out.shape == img.shape
    # sepia: the output's channels are strongly correlated, the photo's are not
    b, g, r = (out[..., c].astype(float).ravel() for c in range(3))
    assert np.corrcoef(r, b)[0, 1] > 0.98
    assert np.abs(out.astype(float) - img).mean() > 10


def test_nhwc_0_255_fixed_size_model(tmp_path: Path) -> None:
    model = colour_mix_model(tmp_path / "warm.onnx", layout="NHWC", scale=255.0, fixed=96)
    manifest(model, layout="NHWC", range="0..255")
    style = load_user_style(model)
    assert style.fixed == (96, 96)
    img = photo()
    out = StyleRenderer(style, process_size=None).render(img)
    assert out.shape == img.shape and np.abs(out.astype(float) - img).mean() > 10


def test_styles_folder_loads_good_and_refuses_bad(tmp_path: Path) -> None:
    folder = tmp_path / "styles"
    folder.mkdir()
    manifest(colour_mix_model(folder / "good.onnx"), name="Good")
    (folder / "garbage.onnx").write_bytes(b"this is not a protobuf \x00\xff" * 10)
    manifest(folder / "garbage.onnx")
    manifest(colour_mix_model(folder / "layout.onnx"), layout="NHWC")  # really NCHW
    colour_mix_model(folder / "nomanifest.onnx")
    loaded, refused = scan_styles_folder(folder)
    assert [s.name for s in loaded] == ["Good"]
    reasons = {p.name: r for p, r in refused}
    assert set(reasons) == {"garbage.onnx", "layout.onnx", "nomanifest.onnx"}
    assert "not a valid ONNX model" in reasons["garbage.onnx"]
    assert "declared NHWC layout" in reasons["layout.onnx"] and "NCHW" in reasons["layout.onnx"]
    assert "missing manifest nomanifest.json" in reasons["nomanifest.onnx"]
    library = StyleLibrary(styles_dir=folder)
    assert library.resolve("Good").name == "Good"


@pytest.mark.parametrize("fields, reason", [
    ({"layout": "CHW"}, "layout must be NCHW or NHWC"),
    ({"range": "0..2"}, "range must be 0..1 or 0..255"),
    ({"licence": ""}, "non-empty 'licence'"),
    ({"size": [0, 5]}, "size must be"),
])
def test_bad_manifest_is_refused(tmp_path: Path, fields: dict, reason: str) -> None:
    model = colour_mix_model(tmp_path / "m.onnx")
    manifest(model, **fields)
    with pytest.raises(StyleError, match=reason):
        load_user_style(model)


def test_two_input_model_is_refused(tmp_path: Path) -> None:
    dims = [1, 3, "h", "w"]
    graph = helper.make_graph(
        [helper.make_node("Add", ["a", "b"], ["c"])], "two",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, dims) for n in "ab"],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, dims)])
    path = tmp_path / "two.onnx"
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))
    manifest(path)
    with pytest.raises(StyleError, match="has 2 inputs"):
        load_user_style(path)
