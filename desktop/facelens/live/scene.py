"""The typed scene model the live pipeline emits for every processed frame."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

RECOGNISED = "recognised"
NOT_RECOGNISED = "not recognised"
TOO_SMALL = "too small"
TOO_BLURRY = "too blurry"
STATES = (RECOGNISED, NOT_RECOGNISED, TOO_SMALL, TOO_BLURRY)


@dataclass(frozen=True)
class SceneFace:
    """One tracked face in one frame, with the label the view shows for it."""

    track_id: int
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in full-frame pixels
    state: str  # one of STATES
    name: str | None = None  # set when state is RECOGNISED
    similarity: float | None = None  # smoothed cosine similarity of the best candidate

    @property
    def label(self) -> str:
        """The text painted next to the box."""
        if self.state == RECOGNISED:
            return f"{self.name} {self.similarity:.2f}"
        return self.state.capitalize()

    @property
    def area(self) -> float:
        x1, y1, x2, y2 = self.box
        return max(0.0, x2 - x1) * max(0.0, y2 - y1)

    def contains(self, x: float, y: float) -> bool:
        x1, y1, x2, y2 = self.box
        return x1 <= x <= x2 and y1 <= y <= y2


@dataclass(frozen=True)
class VerifyResult:
    """1:1 check of a live face (the chosen one, else the largest) against a claimed person."""

    claimed: str
    similarity: float | None  # None: no judgeable face in view
    threshold: float
    track_id: int | None = None

    @property
    def match(self) -> bool:
        return self.similarity is not None and self.similarity >= self.threshold


@dataclass(frozen=True)
class PipelineStats:
    """Rates and delays measured by the pipeline, shown in the status bar."""

    camera_fps: float = 0.0
    processed_fps: float = 0.0
    latency_ms: float = 0.0  # capture to label, smoothed
    frames_in: int = 0
    frames_processed: int = 0
    analysed_fps: float = 0.0  # detections (and re-checks) per second

    @property
    def dropped(self) -> int:
        return max(0, self.frames_in - self.frames_processed)


@dataclass(frozen=True)
class Scene:
    """Everything the view paints for one frame."""

    frame_id: int
    captured: float  # time.monotonic() when the frame was read
    labelled: float  # time.monotonic() when its labels were ready
    width: int
    height: int
    faces: tuple[SceneFace, ...] = ()
    image: np.ndarray | None = field(default=None, repr=False, compare=False)  # BGR frame
    verify: VerifyResult | None = None
    stats: PipelineStats = PipelineStats()
    analysed_captured: float | None = None  # capture time of the frame last detected on

    @property
    def detection_age_ms(self) -> float | None:
        """How old the detection behind these labels is (boxes are followed since)."""
        if self.analysed_captured is None:
            return None
        return (self.labelled - self.analysed_captured) * 1000.0

    @property
    def latency_ms(self) -> float:
        return (self.labelled - self.captured) * 1000.0

    def face_at(self, x: float, y: float) -> SceneFace | None:
        """The smallest face whose box holds the point, or None."""
        hits = [f for f in self.faces if f.contains(x, y)]
        return min(hits, key=lambda f: f.area) if hits else None
