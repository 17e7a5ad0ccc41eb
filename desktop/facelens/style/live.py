"""Live styling on worker threads: the newest submitted frame wins, older ones are dropped.

On a CPU with two or more cores, two workers each style a frame with a single-threaded
session at the same time: no thread of ONNX Runtime spins waiting for the other, which keeps
throughput up when other programs share the cores. A result older than one already shown is
dropped, so frames never go backwards.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .overlay import Label, draw_labels
from .render import StyleRenderer


def default_workers() -> int:
    """Workers for live styling: 2 where there are at least 2 cores, else 1."""
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def threads_per_worker(workers: int) -> int:
    """ONNX Runtime threads per session so that all workers together use the cores once."""
    return max(1, (os.cpu_count() or 1) // max(1, workers))


def style_budget_ms(workers: int, fps: float = 20.0, latency_ms: float = 120.0) -> float:
    """Styling time per frame that still gives `fps` and `latency_ms` with `workers`.

    With w workers a frame may take w/fps seconds, and a new frame waits at most about
    1/w of a styling time for a free worker: style * (1 + 1/w) <= latency. 10 % margin.
    """
    w = max(1, workers)
    return 0.9 * min(w * 1000.0 / fps, latency_ms * w / (w + 1))


@dataclass(frozen=True)
class FrameResult:
    """Timing of one styled frame: ``latency_ms`` runs from submit to result."""

    seq: int
    latency_ms: float
    style_ms: float
    dropped: int  # frames dropped so far (a newer one arrived first, or finished first)
    size: tuple[int, int] = (0, 0)  # (width, height) the frame was styled at


class LiveStyler:
    """Styles frames off the caller's thread; ``on_result(bgr, info)`` runs on a worker.

    ``submit`` never blocks: it replaces any frame still waiting. Labels passed with a frame
    are drawn over the styled result while ``show_labels`` is true.
    """

    def __init__(self, renderer: StyleRenderer,
                 on_result: Callable[[np.ndarray, FrameResult], None],
                 workers: int = 1,
                 on_error: Callable[[Exception], None] | None = None) -> None:
        self.renderer = renderer
        self.on_result = on_result
        self.on_error = on_error
        self.show_labels = True
        self.dropped = 0
        self.last_error: Exception | None = None
        self._cond = threading.Condition()
        self._deliver = threading.Lock()
        self._pending: tuple[np.ndarray, float, Sequence[Label] | None, int] | None = None
        self._seq = 0
        self._shown = 0
        self._running = True
        self._busy = 0
        self._threads = [threading.Thread(target=self._loop, name=f"style-worker-{i}",
                                          daemon=True) for i in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    def submit(self, bgr: np.ndarray, labels: Sequence[Label] | None = None) -> None:
        """Queue `bgr` for styling (thread-safe); a frame still waiting is dropped."""
        with self._cond:
            if self._pending is not None:
                self.dropped += 1
            self._seq += 1
            self._pending = (bgr, time.perf_counter(), labels, self._seq)
            self._cond.notify()

    @property
    def last_submitted(self) -> int:
        """Sequence number of the newest submitted frame (results carry theirs in ``seq``)."""
        with self._cond:
            return self._seq

    def idle(self) -> bool:
        """True when no frame is waiting or being styled."""
        with self._cond:
            return self._pending is None and self._busy == 0

    def stop(self, timeout: float = 5.0) -> None:
        """End the worker threads (frames being styled are finished first)."""
        with self._cond:
            self._running = False
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._running and self._pending is None:
                    self._cond.wait()
                if not self._running:
                    return
                frame, t_submit, labels, seq = self._pending
                self._pending = None
                self._busy += 1
            try:
                self._style(frame, t_submit, labels, seq)
            except Exception as exc:  # keep the worker alive; the panel shows it
                self.last_error = exc
                if self.on_error:
                    self.on_error(exc)
            finally:
                with self._cond:
                    self._busy -= 1

    def _style(self, frame: np.ndarray, t_submit: float, labels: Sequence[Label] | None,
               seq: int) -> None:
        t0 = time.perf_counter()
        out, size = self.renderer.render_at(frame)
        t1 = time.perf_counter()
        if labels and self.show_labels:
            draw_labels(out, labels)
        with self._deliver:
            if seq < self._shown:  # another worker already showed a newer frame
                with self._cond:
                    self.dropped += 1
                return
            self._shown = seq
            info = FrameResult(seq, (t1 - t_submit) * 1000, (t1 - t0) * 1000, self.dropped, size)
            self.on_result(out, info)
