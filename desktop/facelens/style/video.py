"""Styling a whole video file, frame by frame, with a progress callback."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import cv2

from .errors import StyleError
from .record import Recorder
from .render import StyleRenderer

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"}


def is_video(path: str | Path) -> bool:
    """True for file names with a video suffix."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def stylize_video(src: str | Path, dst: str | Path, renderer: StyleRenderer,
                  progress: Callable[[int, int], None] | None = None) -> dict:
    """Style every frame of `src` into the MP4 `dst`; ``progress(done, total)`` after each.

    ``total`` is 0 when the container does not say how many frames it has.
    Returns frames, fps, size and seconds.
    """
    src, dst = Path(src), Path(dst)
    if not src.is_file():
        raise StyleError(f"{src}: no such file")
    cap = cv2.VideoCapture(str(src))
    if not cap.isOpened():
        raise StyleError(f"{src}: not a readable video")
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    total = max(0, int(cap.get(cv2.CAP_PROP_FRAME_COUNT)))
    t0 = time.perf_counter()
    done = 0
    size = (0, 0)
    try:
        with Recorder(dst, fps) as rec:
            while True:
                ok, frame = cap.read()
                if not ok:
                    break
                size = (frame.shape[1], frame.shape[0])
                rec.write(renderer.render(frame))
                done += 1
                if progress:
                    progress(done, max(total, done))
    finally:
        cap.release()
    if done == 0:
        raise StyleError(f"{src}: no frames could be read")
    return {"frames": done, "fps": round(fps, 3), "size": list(size),
            "seconds": round(time.perf_counter() - t0, 3)}
