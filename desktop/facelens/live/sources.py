"""Video sources (camera, file, RTSP/HTTP URL, image folder) and a newest-frame reader thread."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import FaceLensError
from ..images import IMAGE_SUFFIXES, load_image

URL_PREFIXES = ("rtsp://", "rtsps://", "http://", "https://", "rtmp://", "udp://", "tcp://")


class RateMeter:
    """Events per second over a sliding one-second window."""

    def __init__(self) -> None:
        self.t0, self.n, self.rate = time.monotonic(), 0, 0.0

    def tick(self) -> float:
        self.n += 1
        elapsed = time.monotonic() - self.t0
        if elapsed >= 1.0:
            self.rate, self.t0, self.n = self.n / elapsed, time.monotonic(), 0
        return self.rate


class SourceError(FaceLensError):
    """A video source cannot be opened."""


@dataclass(frozen=True)
class SourceSpec:
    """What to open: ``kind`` is camera | file | url | folder."""

    kind: str
    target: str | int

    def describe(self) -> str:
        if self.kind == "camera":
            return f"camera {self.target}"
        if self.kind in ("file", "folder"):
            return f"{self.kind} {Path(str(self.target)).name}"
        return str(self.target)


def parse_source(text: str | int) -> SourceSpec:
    """Turn ``--source`` text into a spec: a digit is a camera, a URL a stream, else a path."""
    text = str(text).strip()
    if text.isdigit():
        return SourceSpec("camera", int(text))
    if text.lower().startswith(URL_PREFIXES):
        return SourceSpec("url", text)
    path = Path(os.path.expanduser(text))
    if path.is_dir():
        return SourceSpec("folder", str(path))
    if path.is_file():
        return SourceSpec("file", str(path))
    if path.suffix or "/" in text or os.sep in text:  # meant as a file or folder
        raise SourceError(f"{text}: no such file or folder; check the path")
    raise SourceError(f"{text}: not a camera index, URL, video file or image folder")


def list_cameras(max_index: int = 4) -> list[int]:
    """Indexes of the cameras that open and deliver a frame."""
    found = []
    for index in range(max_index):
        cap = cv2.VideoCapture(index)
        try:
            if cap.isOpened() and cap.read()[0]:
                found.append(index)
        finally:
            cap.release()
    return found


class FrameSource:
    """One opened source. ``read`` returns a BGR frame or None when it ends or fails."""

    live = True  # a live source reconnects; a recorded one ends
    fps = 0.0  # native frame rate (0: unknown)
    size = (0, 0)

    def read(self) -> np.ndarray | None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class CaptureSource(FrameSource):
    """A camera, video file or stream through OpenCV's VideoCapture."""

    def __init__(self, spec: SourceSpec):
        self.live = spec.kind != "file"
        self.cap = cv2.VideoCapture(spec.target)
        if not self.cap.isOpened():
            self.cap.release()
            raise SourceError(f"cannot open {spec.describe()}")
        fps = self.cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 1.0 <= fps <= 240.0 else 0.0
        self.size = (int(self.cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                     int(self.cap.get(cv2.CAP_PROP_FRAME_HEIGHT)))

    def read(self) -> np.ndarray | None:
        ok, frame = self.cap.read()
        return frame if ok and frame is not None else None

    def close(self) -> None:
        self.cap.release()


class FolderSource(FrameSource):
    """Images of a folder, in name order, as a slow slideshow (``interval`` s per image)."""

    live = False

    def __init__(self, spec: SourceSpec, interval: float = 2.0):
        folder = Path(str(spec.target))
        self.paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not self.paths:
            raise SourceError(f"{folder}: no images in this folder")
        self.fps = 1.0 / interval
        self.index = 0
        first = load_image(self.paths[0])
        self.size = (first.shape[1], first.shape[0])

    def read(self) -> np.ndarray | None:
        while self.index < len(self.paths):
            path = self.paths[self.index]
            self.index += 1
            try:
                return load_image(path)
            except FaceLensError:
                continue  # an unreadable file in the folder is skipped
        return None


def open_source(spec: SourceSpec, slideshow_interval: float = 2.0) -> FrameSource:
    """Open `spec`; raise :class:`SourceError` when it cannot be opened."""
    if spec.kind == "folder":
        return FolderSource(spec, slideshow_interval)
    return CaptureSource(spec)


@dataclass(frozen=True)
class Frame:
    """A frame as read: its number, its capture time (time.monotonic) and the BGR image."""

    frame_id: int
    captured: float
    image: np.ndarray


@dataclass(frozen=True)
class SourceEvent:
    """What happened to the source: opened | ended | failed | reconnecting | reconnected."""

    kind: str
    message: str


class FrameReader:
    """Reads a source on its own thread and keeps only the newest frame.

    Recorded sources (files, folders) are paced at their own frame rate, as a camera would
    deliver them. Live sources that stop delivering are reopened up to ``reconnect_tries`` times.
    """

    def __init__(self, spec: SourceSpec, on_event: Callable[[SourceEvent], None] | None = None,
                 reconnect_tries: int = 5, reconnect_delay: float = 1.0,
                 slideshow_interval: float = 2.0, opener: Callable = open_source,
                 paced: bool = True):
        self.spec = spec
        self.paced = paced  # False: recorded sources are read as fast as frames are taken
        self.on_event = on_event or (lambda event: None)
        self.reconnect_tries = reconnect_tries
        self.reconnect_delay = reconnect_delay
        self.slideshow_interval = slideshow_interval
        self.opener = opener
        self.frames_read = 0
        self.first_time = self.last_time = 0.0  # capture times of the first and last frames
        self.fps = 0.0  # measured delivery rate
        self.source_fps = 0.0  # the source's own frame rate (0: unknown)
        self.size = (0, 0)
        self.finished = threading.Event()
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._latest: Frame | None = None
        self._taken = -1  # id of the newest frame handed out by latest()
        self._thread = threading.Thread(target=self._run, name="facelens-capture", daemon=True)

    def start(self) -> FrameReader:
        self._thread.start()
        return self

    def stop(self, timeout: float = 3.0) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def latest(self, after_id: int = -1, timeout: float = 0.5) -> Frame | None:
        """The newest frame newer than `after_id`, waiting up to `timeout`; None if none."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._latest is None or self._latest.frame_id <= after_id:
                left = deadline - time.monotonic()
                if left <= 0 or self._stop.is_set() or self.finished.is_set():
                    break
                self._cond.wait(left)
            frame = self._latest
            if frame is not None and frame.frame_id > after_id:
                self._taken = frame.frame_id
                self._cond.notify_all()
                return frame
        return None

    def _publish(self, image: np.ndarray) -> None:
        frame = Frame(self.frames_read, time.monotonic(), image)
        if self.frames_read == 0:
            self.first_time = frame.captured
        self.last_time = frame.captured
        self.frames_read += 1
        with self._cond:
            self._latest = frame
            self._cond.notify_all()
            while not self.paced and self._taken < frame.frame_id and not self._stop.is_set():
                self._cond.wait(0.5)  # unpaced: the next frame waits until this one is taken

    def _open(self) -> FrameSource | None:
        try:
            source = self.opener(self.spec, self.slideshow_interval)
        except (FaceLensError, OSError, cv2.error) as exc:
            self.on_event(SourceEvent("failed", str(exc)))
            return None
        self.size = source.size
        self.source_fps = source.fps
        return source

    def _run(self) -> None:
        try:
            source = self._open()
            if source is not None:
                self.on_event(SourceEvent("opened", f"{self.spec.describe()} opened"))
                self._loop(source)
        finally:
            self.finished.set()
            with self._cond:
                self._cond.notify_all()

    def _loop(self, source: FrameSource) -> None:
        period = 1.0 / source.fps if (not source.live and source.fps and self.paced) else 0.0
        next_due = time.monotonic()
        rate = RateMeter()
        while not self._stop.is_set():
            image = source.read()
            if image is None:
                source.close()
                if not source.live:
                    self.on_event(SourceEvent("ended", f"{self.spec.describe()} ended"))
                    return
                source = self._reconnect()
                if source is None:
                    return
                continue
            if period:
                delay = next_due - time.monotonic()
                if delay > 0 and self._stop.wait(delay):
                    break
                if delay < -period:
                    next_due = time.monotonic()  # fell behind: do not burst to catch up
                next_due += period
            self.size = (image.shape[1], image.shape[0])
            self._publish(image)
            self.fps = rate.tick()
        source.close()

    def _reconnect(self) -> FrameSource | None:
        for attempt in range(1, self.reconnect_tries + 1):
            self.on_event(SourceEvent(
                "reconnecting",
                f"{self.spec.describe()} stopped delivering; reconnecting "
                f"({attempt}/{self.reconnect_tries})"))
            if self._stop.wait(self.reconnect_delay):
                return None
            try:
                source = self.opener(self.spec, self.slideshow_interval)
            except (FaceLensError, OSError, cv2.error):
                continue
            self.on_event(SourceEvent("reconnected", f"{self.spec.describe()} reconnected"))
            return source
        self.on_event(SourceEvent(
            "failed", f"{self.spec.describe()} lost after {self.reconnect_tries} reconnect tries"))
        return None
