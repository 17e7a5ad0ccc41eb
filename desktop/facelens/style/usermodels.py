"""User style models: ``NAME.onnx`` plus a ``NAME.json`` manifest in the styles folder.

The manifest says what the network expects::

    {"name": "Mosaic", "licence": "BSD-3-Clause", "layout": "NCHW",
     "range": "0..255", "size": [224, 224]}

``layout`` is NCHW or NHWC, ``range`` is 0..1 or 0..255, ``size`` ([width, height]) is only
needed for networks with a fixed input size that the file does not state. A model is validated
before use: a real ONNX file, one rank-4 image input with 3 channels in the declared layout,
and an image-shaped output (checked with a trial run). A bad one is refused with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnx

from .errors import StyleError
from .models import SessionCache
from .styles import Style, pad_to_multiple

LAYOUTS = ("NCHW", "NHWC")
RANGES = {"0..1": 1.0, "0..255": 255.0}


@dataclass(frozen=True)
class Manifest:
    """What a user style model declares about itself."""

    name: str
    licence: str
    layout: str
    scale: float  # 1.0 for 0..1, 255.0 for 0..255
    size: tuple[int, int] | None = None  # (width, height) when fixed


def load_manifest(path: Path) -> Manifest:
    """Read and check a manifest; :class:`StyleError` says what is wrong."""
    if not path.is_file():
        raise StyleError(f"{path.with_suffix('.onnx').name}: missing manifest {path.name} "
                         "(name, licence, layout NCHW/NHWC, range 0..1/0..255)")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StyleError(f"{path.name}: manifest is not readable JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise StyleError(f"{path.name}: manifest must be a JSON object")
    for key in ("name", "licence"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            raise StyleError(f"{path.name}: manifest needs a non-empty {key!r}")
    layout = str(raw.get("layout", "")).upper()
    if layout not in LAYOUTS:
        raise StyleError(f"{path.name}: layout must be NCHW or NHWC, not {raw.get('layout')!r}")
    rng = str(raw.get("range", "")).replace(" ", "")
    if rng not in RANGES:
        raise StyleError(f"{path.name}: range must be 0..1 or 0..255, not {raw.get('range')!r}")
    size = raw.get("size")
    if size is not None:
        ok = isinstance(size, list) and len(size) == 2
        if not ok or not all(isinstance(v, int) and v > 0 for v in size):
            raise StyleError(f"{path.name}: size must be [width, height] in pixels")
        size = (size[0], size[1])
    return Manifest(raw["name"].strip(), raw["licence"].strip(), layout, RANGES[rng], size)


def _dims(value_info: onnx.ValueInfoProto) -> list[int | str]:
    shape = value_info.type.tensor_type.shape
    return [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?") for d in shape.dim]


def _check_image_shape(what: str, dims: list[int | str], layout: str) -> None:
    if len(dims) != 4:
        raise StyleError(f"{what} has rank {len(dims)} {dims}; a style model needs a rank-4 image")
    channels = dims[1] if layout == "NCHW" else dims[3]
    if channels != 3:
        other = dims[3] if layout == "NCHW" else dims[1]
        hint = f" (it looks like {'NHWC' if layout == 'NCHW' else 'NCHW'})" if other == 3 else ""
        raise StyleError(f"{what} shape {dims} does not have 3 channels in the declared "
                         f"{layout} layout{hint}")


def inspect_model(path: Path, manifest: Manifest) -> tuple[int, int] | None:
    """Check the ONNX file against its manifest; return its fixed (width, height) or None."""
    try:
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
    except Exception as exc:  # onnx raises DecodeError, ValidationError, OSError ...
        first = str(exc).splitlines()[0][:160] if str(exc) else "unreadable"
        raise StyleError(f"{path.name}: not a valid ONNX model "
                         f"({type(exc).__name__}: {first})") from None
    graph = model.graph
    init = {t.name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in init]
    if len(inputs) != 1:
        raise StyleError(f"{path.name}: has {len(inputs)} inputs; a style model takes one image")
    if inputs[0].type.tensor_type.elem_type != onnx.TensorProto.FLOAT:
        raise StyleError(f"{path.name}: input must be float32")
    dims = _dims(inputs[0])
    _check_image_shape(f"{path.name}: input", dims, manifest.layout)
    if not graph.output:
        raise StyleError(f"{path.name}: has no output")
    out_dims = _dims(graph.output[0])
    if out_dims:
        _check_image_shape(f"{path.name}: output", out_dims, manifest.layout)
    hw = dims[2:4] if manifest.layout == "NCHW" else dims[1:3]
    if all(isinstance(v, int) and v > 0 for v in hw):
        return (int(hw[1]), int(hw[0]))
    return manifest.size


class UserStyle(Style):
    """A validated user model; input/output conversion follows its manifest."""

    def __init__(self, cache: SessionCache, path: Path, manifest: Manifest,
                 fixed: tuple[int, int] | None) -> None:
        self.name = manifest.name
        self.licence = manifest.licence
        self.path = Path(path)
        self.manifest = manifest
        self.fixed = fixed
        self._cache = cache

    def apply(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        x = cv2.resize(rgb, self.fixed, interpolation=cv2.INTER_AREA) if self.fixed else \
            pad_to_multiple(rgb)
        x = x * self.manifest.scale
        nchw = self.manifest.layout == "NCHW"
        x = np.ascontiguousarray(x.transpose(2, 0, 1)[None] if nchw else x[None], np.float32)
        session = self._cache.get(self.path)
        out = session.run(None, {session.get_inputs()[0].name: x})[0][0]
        out = (out.transpose(1, 2, 0) if nchw else out) / self.manifest.scale
        out = np.clip(out, 0.0, 1.0).astype(np.float32)
        if out.shape[:2] != (h, w):
            out = out[:h, :w] if not self.fixed and out.shape[0] >= h and out.shape[1] >= w \
                else cv2.resize(out, (w, h), interpolation=cv2.INTER_LINEAR)
        return np.ascontiguousarray(out)


def load_user_style(path: Path, cache: SessionCache | None = None) -> UserStyle:
    """Load and validate ``NAME.onnx`` with ``NAME.json`` beside it; a trial run proves it."""
    path = Path(path)
    manifest = load_manifest(path.with_suffix(".json"))
    fixed = inspect_model(path, manifest)
    style = UserStyle(cache or SessionCache(), path, manifest, fixed)
    probe = np.full((64, 64, 3), 0.5, np.float32)
    try:
        out = style.apply(probe)
    except Exception as exc:
        raise StyleError(f"{path.name}: trial run failed ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0][:160]})") from None
    if out.shape != probe.shape:
        raise StyleError(f"{path.name}: output is not an image of the input's size ({out.shape})")
    return style


def scan_styles_folder(folder: Path | None, cache: SessionCache | None = None
                       ) -> tuple[list[UserStyle], list[tuple[Path, str]]]:
    """All ``*.onnx`` in `folder`: the ones that load, and (path, reason) for the refused."""
    loaded: list[UserStyle] = []
    refused: list[tuple[Path, str]] = []
    if folder is None or not Path(folder).is_dir():
        return loaded, refused
    for path in sorted(Path(folder).glob("*.onnx")):
        try:
            loaded.append(load_user_style(path, cache))
        except StyleError as exc:
            refused.append((path, str(exc)))
    return loaded, refused
