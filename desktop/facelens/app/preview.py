"""The source's frames, shown unlabelled while the models load, so the video appears at once.

The window starts a `SourcePreview` on launch; when the models are ready the live pipeline
carries on with the same reader (`hand_over`), so a video does not start again and a camera
is not reopened.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer

from ..errors import FaceLensError
from ..live.scene import Scene
from ..live.sources import FrameReader, SourceEvent, SourceSpec, parse_source
from .video_view import VideoView


class SourcePreview(QObject):
    """Reads `spec` and shows its newest frame in `view` about 60 times a second."""

    def __init__(self, view: VideoView, spec: SourceSpec, parent: QObject | None = None,
                 **reader_options) -> None:
        super().__init__(parent)
        self.spec = spec
        self.events: list[SourceEvent] = []
        self.reader = FrameReader(spec, self.events.append, **reader_options).start()
        self._view = view
        self._last = -1
        self._timer = QTimer(self)
        self._timer.setInterval(15)
        self._timer.timeout.connect(self._show)
        self._timer.start()

    @classmethod
    def start(cls, view: VideoView, text: str, parent: QObject | None = None,
              **reader_options) -> SourcePreview | None:
        """A preview of the source `text`, or None when it is not a source at all (the
        pipeline reports that once it starts)."""
        try:
            spec = parse_source(text)
        except FaceLensError:
            return None
        return cls(view, spec, parent, **reader_options)

    def _show(self) -> None:
        frame = self.reader.latest(self._last, timeout=0)
        if frame is None:
            return
        self._last = frame.frame_id
        h, w = frame.image.shape[:2]
        self._view.show_scene(Scene(frame.frame_id, frame.captured, time.monotonic(), w, h,
                                    image=frame.image))

    def hand_over(self, spec: SourceSpec) -> FrameReader | None:
        """Stop showing frames and give the running reader to the pipeline; None (the reader
        stopped) when `spec` is another source or the reader has already ended or failed."""
        self._timer.stop()
        if spec != self.spec or self.reader.finished.is_set():
            self.reader.stop()
            return None
        return self.reader

    def stop(self) -> None:
        self._timer.stop()
        self.reader.stop()
