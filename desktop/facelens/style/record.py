"""Saving styled output: PNG snapshots and MP4 recordings."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from .errors import StyleError


def save_png(path: str | Path, bgr: np.ndarray) -> Path:
    """Write `bgr` as a PNG at `path` (folders created); raise :class:`StyleError` on failure."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ok, data = cv2.imencode(".png", bgr)
    if not ok:
        raise StyleError(f"{path}: could not encode the frame as PNG")
    try:
        path.write_bytes(data.tobytes())
    except OSError as exc:
        raise StyleError(f"{path}: cannot write ({exc.strerror})") from None
    return path


class Recorder:
    """An MP4 writer ('mp4v') that opens on the first frame and fixes its size then."""

    def __init__(self, path: str | Path, fps: float = 20.0) -> None:
        self.path = Path(path)
        self.fps = float(fps) if fps and fps > 0 else 20.0
        self.frames = 0
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None

    def write(self, bgr: np.ndarray) -> None:
        """Append one frame; frames of another size are resized to the first frame's size."""
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._size = (bgr.shape[1], bgr.shape[0])
            fourcc = cv2.VideoWriter_fourcc(*"mp4v")
            self._writer = cv2.VideoWriter(str(self.path), fourcc, self.fps, self._size)
            if not self._writer.isOpened():
                self._writer = None
                raise StyleError(f"{self.path}: cannot open an MP4 writer there")
        if (bgr.shape[1], bgr.shape[0]) != self._size:
            bgr = cv2.resize(bgr, self._size)
        self._writer.write(np.ascontiguousarray(bgr))
        self.frames += 1

    def close(self) -> Path:
        """Finish the file; returns its path."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        return self.path

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
