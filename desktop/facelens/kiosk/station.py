"""The kiosk station: frames in, screen views and decisions out (Qt-free).

Per frame: detect the largest face, align it, embed it, search the gallery (identify) or
check the claimed person (verify), run the anti-spoofing network, push the crop into the
temporal-liveness volume, and let :class:`DecisionPolicy` decide. A decision is written to
the audit log first (no audit row, no door), then to the attendance log, then the door
action is handed to the station's door worker: it runs there, within its deadline, while the
next frames are processed. Its outcome is written to the decision's audit row when it ends.
Faults (database full or locked, door action failing or timing out) are shown, never hidden.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ..attendance import AttendanceFault, AttendanceStore
from ..engine.faces import iou_matrix, largest_face
from ..errors import FaceLensError, GalleryError
from ..images import encode_jpeg
from ..thresholds import resolve_threshold
from .actions import ActionResult, DoorAction
from .antispoof import AntiSpoof, SpoofReading, sharpness_only
from .audit import AuditFault, AuditLog, AuditRow
from .config import KioskConfig
from .door_worker import DoorJob, DoorWorker
from .policy import Decision, DecisionPolicy, Reading, Status, View
from .temporal import TemporalLiveness

if TYPE_CHECKING:
    from ..engine.recognizer import FaceEngine

# what an admin may change on a running station (KioskConfig field names)
LIVE_SETTINGS = ("policy", "frames", "threshold", "action_cooldown_s")


class EnrolRefused(FaceLensError):
    """No face in view, or the face in view fails the quality check."""


@dataclass
class Outcome:
    """What the last decision led to, for the screen and the admin view."""

    decision: Decision
    granted: bool
    audit_seq: int | None
    action: ActionResult | None
    fault: str = ""


class KioskStation:
    """Everything the kiosk does between the camera and the screen."""

    def __init__(self, engine: FaceEngine, gallery, config: KioskConfig, audit: AuditLog,
                 attendance: AttendanceStore | None = None, door: DoorAction | None = None,
                 antispoof: AntiSpoof | None = None, clock=time.monotonic, settings=None):
        self.engine = engine
        self.settings = settings  # the app's Settings: its threshold applies when kiosk's is None
        self.gallery = gallery
        self.config = config
        self.audit = audit
        self.attendance = attendance
        self.door = door or DoorAction(config.action)
        self.door_worker = DoorWorker(lambda: self.door, self._door_done)
        # a pack without an anti-spoofing model: blur is still checked, liveness is temporal
        self.antispoof = antispoof or (AntiSpoof(engine.antispoof(), config.antispoof_threshold,
                                                 config.min_sharpness)
                                       if engine.has_antispoof else None)
        self.threshold = resolve_threshold(engine.default_threshold, settings, config,
                                           pack=engine.pack_name,
                                           gallery_size=_templates(gallery))
        self.policy = DecisionPolicy(config.policy, config.frames, config.min_face_px,
                                     config.antispoof_threshold, config.temporal_threshold,
                                     config.hold_s,
                                     antispoof_model=self.antispoof is not None)
        self.temporal = TemporalLiveness(config.temporal_frames)
        self.clock = clock
        self.claimed: str | None = None
        self._claim_time = 0.0
        self._prev_box: np.ndarray | None = None
        self.last_reading: Reading | None = None
        self.last_outcome: Outcome | None = None
        self.fault = ""  # the latest fault, shown until the next granted decision
        self.view = View(Status.LOOK, "Look at the camera")
        # engine and station state: the worker's process() and an admin's enrol or settings
        # change take it in turn (the engine itself has no lock)
        self.lock = threading.RLock()

    # -- inputs -----------------------------------------------------------------------------

    def claim(self, text: str) -> str:
        """Set the claimed identity (typed, or a badge id from a keyboard-wedge reader)."""
        self.claimed = self.config.resolve_claim(text) or None
        self._claim_time = self.clock()
        self.policy.reset()
        self.temporal.reset()
        return self.claimed or ""

    def camera_lost(self, message: str) -> View:
        self.policy.reset()
        self.temporal.reset()
        self.view = View(Status.OUT_OF_ORDER, "Out of order", message)
        return self.view

    def process(self, bgr: np.ndarray) -> View:
        """One camera frame -> what the screen shows now."""
        with self.lock:
            return self._process(bgr)

    def _process(self, bgr: np.ndarray) -> View:
        now = self.clock()
        if self.claimed and now - self._claim_time > self.config.claim_timeout_s:
            self.claimed = None
        if self.policy.showing_decision(now):
            return self.view  # the decision stays up; no need to run the networks
        reading, face_box = self._read(bgr)
        self.last_reading = reading
        view, decision = self.policy.feed(reading, now, self.claimed)
        if decision is not None:
            view = self._conclude(decision, view, bgr, face_box, now)
        self.view = view
        return view

    # -- admin ------------------------------------------------------------------------------

    def enrol_from_frame(self, bgr: np.ndarray, name: str) -> int:
        """Enrol the largest face of `bgr` as `name`; return the templates added.

        EnrolRefused when there is no face or it fails the quality check (with the reason).
        One detection and one embedding: tens of milliseconds, under the station's lock.
        """
        with self.lock:
            face = largest_face(self.engine.detect(bgr, min_face=40))
            if face is None:
                raise EnrolRefused("no face in view")
            crop = self.engine.align(bgr, face.landmarks)
            report = self.engine.quality(bgr, face, crop)
            if not report.ok:
                raise EnrolRefused(f"face not enrolled: {report.reason}")
            added = self.gallery.enrol(name, self.engine.embed([crop]), sources=["kiosk"],
                                       crops=[crop],
                                       thumbnails=[encode_jpeg(crop)])
            self.threshold = resolve_threshold(self.engine.default_threshold, self.settings,
                                               self.config, pack=self.engine.pack_name,
                                               gallery_size=_templates(self.gallery))
            self.policy.reset()  # the next frames are judged against the new gallery
            self.temporal.reset()
            return added

    def apply_settings(self, changes: dict) -> None:
        """Change LIVE_SETTINGS on the running station (KioskConfigError if invalid)."""
        unknown = set(changes) - set(LIVE_SETTINGS)
        if unknown:
            raise ValueError(f"not a live setting: {sorted(unknown)}")
        with self.lock:
            old = {k: getattr(self.config, k) for k in changes}
            for k, v in changes.items():
                setattr(self.config, k, v)
            try:
                self.config.validate()
            except FaceLensError:
                for k, v in old.items():
                    setattr(self.config, k, v)
                raise
            c = self.config
            self.threshold = resolve_threshold(self.engine.default_threshold, self.settings, c,
                                               pack=self.engine.pack_name,
                                               gallery_size=_templates(self.gallery))
            self.policy.policy, self.policy.frames = c.policy, c.frames
            self.door.config = c.action
            self.claimed = None
            self.policy.reset()
            self.temporal.reset()

    # -- per frame --------------------------------------------------------------------------

    def _read(self, bgr: np.ndarray) -> tuple[Reading, np.ndarray | None]:
        face = largest_face(self.engine.detect(bgr, min_face=40))
        if face is None:
            self.temporal.reset()
            self._prev_box = None
            return Reading(face=False), None
        box = np.asarray(face.box, dtype=np.float32)
        if self._prev_box is not None and iou_matrix(box[None], self._prev_box[None])[0, 0] < 0.2:
            self.temporal.reset()  # another face, or a jump: a new track
        self._prev_box = box
        height = float(box[3] - box[1])
        if height < self.config.min_face_px:
            return Reading(face=True, face_px=height), box
        crop = self.engine.align(bgr, face.landmarks)
        spoof: SpoofReading = (self.antispoof.read(bgr, box) if self.antispoof is not None
                               else sharpness_only(bgr, box, self.config.min_sharpness))
        name, sim = self._match(self.engine.embed([crop])[0])
        prev = self.last_reading
        if prev is None or not prev.face or prev.matched != name:
            self.temporal.reset()  # the volume holds only frames of the current run
        temporal = self.temporal.push(crop)
        return Reading(True, height, spoof.sharpness, spoof.sharp, name, sim, spoof.score,
                       temporal), box

    def _match(self, emb: np.ndarray) -> tuple[str | None, float | None]:
        if self.config.policy == "verify":
            if not self.claimed:
                return None, None
            try:
                m = self.gallery.verify(self.claimed, emb, self.threshold)
            except GalleryError:
                return None, None  # the claimed id is not enrolled: refused like a mismatch
        else:
            m = self.gallery.identify(emb[None], self.threshold)[0]
        return m.name, m.similarity

    # -- per decision -----------------------------------------------------------------------

    def _thumbnail(self, bgr: np.ndarray, box: np.ndarray | None) -> bytes | None:
        if not self.config.thumbnails or box is None:
            return None
        x1, y1, x2, y2 = (int(v) for v in box)
        crop = bgr[max(0, y1):max(0, y2), max(0, x1):max(0, x2)]
        if crop.size == 0:
            return None
        crop = cv2.resize(crop, (96, round(96 * crop.shape[0] / crop.shape[1])))
        ok, jpg = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 80])
        return jpg.tobytes() if ok else None

    def _refuse_for_fault(self, d: Decision, fault: str, now: float) -> View:
        self.fault = fault
        refused = Decision(False, d.name, f"fault: {fault}", d.similarity, d.antispoof,
                           d.temporal, d.sharpness)
        self.policy.show(refused, now)
        return View(Status.REFUSED, "Not recognised", f"fault: {fault}")

    def _conclude(self, d: Decision, view: View, bgr: np.ndarray, box: np.ndarray | None,
                  now: float) -> View:
        cfg = self.config
        self.temporal.reset()  # the next decision starts from new frames
        row = AuditRow(policy=cfg.policy, granted=d.granted, reason=d.reason,
                       claimed=self.claimed, matched=d.name, similarity=d.similarity,
                       threshold=self.threshold, antispoof=d.antispoof,
                       antispoof_threshold=cfg.antispoof_threshold, temporal=d.temporal,
                       temporal_threshold=cfg.temporal_threshold, sharpness=d.sharpness,
                       thumbnail=self._thumbnail(bgr, box))
        granted, fault, action = d.granted, "", None
        # a granted person is logged, an unknown face counted; a failed write refuses entry
        if cfg.attendance and self.attendance is not None and (granted or d.name is None):
            try:
                self.attendance.log(d.name, d.similarity, source="kiosk")
            except AttendanceFault as exc:
                granted, fault = False, str(exc)
        if fault:
            row.granted, row.reason = False, f"fault: {fault}"
        try:
            seq = self.audit.append(row)
        except AuditFault as exc:
            self.last_outcome = Outcome(d, False, None, None, str(exc))
            return self._refuse_for_fault(d, str(exc), now)
        if granted:  # the door worker runs it; this frame does not wait (see _door_done)
            action = self.door_worker.submit(d.name, {"similarity": d.similarity,
                                                      "audit_seq": seq, "policy": cfg.policy},
                                             seq)
            self._record_action(seq, action)
        self.last_outcome = Outcome(d, granted, seq, action, fault)
        if not granted:
            if fault:
                return self._refuse_for_fault(d, fault, now)
            self.claimed = None
            return view
        self.claimed = None
        self.fault = fault
        return View(view.status, view.text, fault or view.detail, view.name)

    def wait_door(self, timeout_s: float = 10.0) -> bool:
        """Wait until the door actions handed to the worker have ended (False: timed out)."""
        return self.door_worker.wait_idle(timeout_s)

    def _door_done(self, job: DoorJob, action: ActionResult) -> None:
        """On the door worker: record the action's outcome; a failure is shown on screen."""
        with self.lock:  # the audit connection and the station state are shared with process()
            self._record_action(job.audit_seq, action)
            out = self.last_outcome
            if out is not None and out.audit_seq == job.audit_seq:
                out.action = action
                if not action.ok:
                    out.fault = action.message
            if not action.ok:
                self.fault = action.message
                if self.view.name == job.person and self.view.status == Status.GRANTED:
                    self.view = View(self.view.status, self.view.text, action.message,
                                     self.view.name)

    def _record_action(self, seq: int | None, action: ActionResult) -> None:
        if seq is None:
            return
        state = "running: " if action.pending else "ok: " if action.ok else "FAILED: "
        text = state + action.message
        try:
            self.audit.set_action(seq, text)
        except AuditFault as exc:  # the row exists; a failed update is shown, not raised
            self.fault = str(exc)


def _templates(gallery) -> int | None:
    """Templates searched, for a `far` operating point (None: the gallery cannot say)."""
    count = getattr(gallery, "count_templates", None)
    return count() if callable(count) else None
