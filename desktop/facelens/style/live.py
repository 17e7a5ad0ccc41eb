"""Live styling on a worker thread: the newest submitted frame wins, older ones are dropped."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .overlay import Label, draw_labels
from .render import StyleRenderer


@dataclass(frozen=True)
class FrameResult:
    """Timing of one styled frame: ``latency_ms`` runs from submit to result."""

    seq: int
    latency_ms: float
    style_ms: float
    dropped: int  # frames dropped so far because a newer one arrived first


class LiveStyler:
    """Styles frames off the caller's thread; ``on_result(bgr, info)`` runs on the worker.

    ``submit`` never blocks: it replaces any frame still waiting. Labels passed with a frame
    are drawn over the styled result while ``show_labels`` is true.
    """

    def __init__(self, renderer: StyleRenderer,
                 on_result: Callable[[np.ndarray, FrameResult], None]) -> None:
        self.renderer = renderer
        self.on_result = on_result
        self.show_labels = True
        self.dropped = 0
        self.last_error: Exception | None = None
        self._cond = threading.Condition()
        self._pending: tuple[np.ndarray, float, Sequence[Label] | None, int] | None = None
        self._seq = 0
        self._running = True
        self._busy = False
        self._thread = threading.Thread(target=self._loop, name="style-worker", daemon=True)
        self._thread.start()

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
            return self._pending is None and not self._busy

    def stop(self, timeout: float = 5.0) -> None:
        """End the worker thread (the frame being styled is finished first)."""
        with self._cond:
            self._running = False
            self._cond.notify()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._running and self._pending is None:
                    self._cond.wait()
                if not self._running:
                    return
                frame, t_submit, labels, seq = self._pending
                self._pending = None
                self._busy = True
            try:
                t0 = time.perf_counter()
                out = self.renderer.render(frame)
                t1 = time.perf_counter()
                if labels and self.show_labels:
                    draw_labels(out, labels)
                info = FrameResult(seq, (t1 - t_submit) * 1000, (t1 - t0) * 1000, self.dropped)
                self.on_result(out, info)
            except Exception as exc:  # keep the worker alive; report through the callback
                self.last_error = exc
            finally:
                with self._cond:
                    self._busy = False
