"""The kiosk's decision over consecutive frames, and what the screen says meanwhile.

A decision needs the same outcome on ``frames`` consecutive readings: the same enrolled
person above the recognition threshold (and, under the verify policy, the claimed one),
then liveness: the anti-spoofing score below its threshold and the temporal cue above its
own. A run of frames with nobody recognised is refused. A decision stays on screen for
``hold_s`` seconds; then the kiosk starts over.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from enum import StrEnum


class Status(StrEnum):
    LOOK = "look"  # no face: "Look at the camera" (or "Scan your badge" under verify)
    HOLD_STILL = "hold_still"  # collecting frames (amber)
    MOVE_CLOSER = "move_closer"  # the face is too small, or too soft to judge (amber)
    GRANTED = "granted"  # "Welcome, NAME" (green)
    REFUSED = "refused"  # "Not recognised" (red)
    OUT_OF_ORDER = "out_of_order"  # the camera is gone, or a fault stops decisions


SOFT_FACE_TEXT = "Move closer / more light"  # the face fails the sharpness pre-check

COLOURS = {Status.LOOK: "neutral", Status.HOLD_STILL: "amber", Status.MOVE_CLOSER: "amber",
           Status.GRANTED: "green", Status.REFUSED: "red", Status.OUT_OF_ORDER: "grey"}


@dataclass(frozen=True)
class Reading:
    """What one frame tells about the face in front of the kiosk."""

    face: bool
    face_px: float = 0.0  # height of the face box in pixels
    sharpness: int | None = None  # Laplacian count of the anti-spoof crop
    sharp: bool = True
    matched: str | None = None  # recognised (or verified claimed) name, None if below threshold
    similarity: float | None = None
    antispoof: float | None = None  # lower = live
    temporal: float | None = None  # None until the track has enough frames


@dataclass(frozen=True)
class Decision:
    granted: bool
    name: str | None
    reason: str
    similarity: float | None
    antispoof: float | None
    temporal: float | None
    sharpness: int | None


@dataclass(frozen=True)
class View:
    """What the kiosk screen shows now."""

    status: Status
    text: str
    detail: str = ""
    name: str | None = None

    @property
    def colour(self) -> str:
        return COLOURS[self.status]


@dataclass
class DecisionPolicy:
    """Turn per-frame readings into views and, now and then, a decision."""

    policy: str = "identify"  # or "verify"
    frames: int = 5
    min_face_px: float = 80.0
    antispoof_threshold: float = 0.2
    temporal_threshold: float = 0.025
    hold_s: float = 3.0
    max_wait_frames: int = 40  # a matched run that never gets a temporal score is refused
    antispoof_model: bool = True  # False: the pack has none; liveness is the temporal cue alone
    _run: list[Reading] = field(default_factory=list)
    _shown: tuple[View, float] | None = None

    def reset(self) -> None:
        self._run.clear()
        self._shown = None

    def showing_decision(self, now: float) -> bool:
        return self._shown is not None and now < self._shown[1]

    def feed(self, r: Reading, now: float, claimed: str | None = None
             ) -> tuple[View, Decision | None]:
        """Take one frame's reading; return the view and a decision when one is made."""
        if self._shown is not None:
            if now < self._shown[1]:
                return self._shown[0], None
            self.reset()
        if self.policy == "verify" and claimed is None:
            self._run.clear()
            return View(Status.LOOK, "Scan your badge or type your ID"), None
        if not r.face:
            self._run.clear()
            return View(Status.LOOK, "Look at the camera"), None
        if r.face_px < self.min_face_px:
            self._run.clear()
            return View(Status.MOVE_CLOSER, "Move closer"), None
        if not r.sharp:  # too few edges: a small, dim or blurred face; closer and light help
            self._run.clear()
            return View(Status.MOVE_CLOSER, SOFT_FACE_TEXT,
                        f"face too soft (sharpness {r.sharpness})"), None
        if self._run and self._run[-1].matched != r.matched:
            self._run.clear()
        self._run.append(r)
        if len(self._run) < self.frames:
            return View(Status.HOLD_STILL, "Hold still", "checking"), None
        decision = self._decide(claimed)
        if decision is None:
            return View(Status.HOLD_STILL, "Hold still", "checking liveness"), None
        return self.show(decision, now), decision

    def show(self, d: Decision, now: float) -> View:
        """Put a decision on screen for ``hold_s`` seconds."""
        if d.granted:
            view = View(Status.GRANTED, f"Welcome, {d.name}", d.reason, d.name)
        else:
            view = View(Status.REFUSED, "Not recognised", d.reason)
        self._shown = (view, now + self.hold_s)
        self._run.clear()
        return view

    def _decide(self, claimed: str | None) -> Decision | None:
        run = self._run[-self.frames:]
        last = run[-1]
        sims = [x.similarity for x in run if x.similarity is not None]
        spoofs = [x.antispoof for x in run if x.antispoof is not None]
        sim = statistics.median(sims) if sims else None
        spoof = statistics.median(spoofs) if spoofs else None

        def decision(granted: bool, reason: str) -> Decision:
            return Decision(granted, last.matched, reason, sim, spoof, last.temporal,
                            last.sharpness)

        if last.matched is None:
            why = ("face does not match the claimed identity" if self.policy == "verify"
                   else "not recognised")
            return decision(False, why)
        if last.temporal is None:
            if len(self._run) >= self.max_wait_frames:
                return decision(False, "liveness: no temporal score")
            return None
        if spoof is None and self.antispoof_model:
            return decision(False, "liveness: no anti-spoofing score (face too blurred)")
        if spoof is not None and spoof >= self.antispoof_threshold:
            return decision(False, f"liveness: anti-spoofing score {spoof:.3f} "
                                   f">= {self.antispoof_threshold}")
        if last.temporal <= self.temporal_threshold:
            return decision(False, f"liveness: temporal cue {last.temporal:.4f} "
                                   f"<= {self.temporal_threshold}")
        who = "claimed identity verified" if self.policy == "verify" else "recognised"
        if not self.antispoof_model:
            return decision(True, f"{who}, live by the temporal cue only (this model pack has "
                                  "no anti-spoofing model)")
        return decision(True, f"{who}, live")
