"""The kiosk's settings: one typed object stored as ``kiosk.json`` in the data folder."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from ..errors import FaceLensError
from .actions import KINDS, ActionConfig

FILE_NAME = "kiosk.json"
POLICIES = ("identify", "verify")
# Calibrated on the dev photos (`facelens kiosk calibrate-liveness`, README "Kiosk"): 42
# hand-held print videos scored <= 0.014, 42 sequences of a person's different photos (a
# stand-in for a living face) >= 0.32. A real face changes less than the stand-in (a
# synthetic two-frame blink on a real crop scores 0.052), so the threshold sits low in the
# gap: about 2x the highest print and half the blink.
TEMPORAL_THRESHOLD = 0.025


class KioskConfigError(FaceLensError):
    """A kiosk setting has a value it cannot take."""


@dataclass
class KioskConfig:
    policy: str = "identify"  # identify: anyone enrolled; verify: the claimed person only
    threshold: float | None = None  # recognition; None: the model pack's calibrated default
    frames: int = 5  # consecutive frames that must agree before a decision
    min_face_px: int = 80  # smaller faces get "Move closer"
    antispoof_threshold: float = 0.2  # FaceAntiSpoofing authors' value; lower score = live
    min_sharpness: int = 1000  # authors' Laplacian count on the 256x256 crop
    temporal_frames: int = 8  # depth of the 3D-convolution volume
    temporal_threshold: float = TEMPORAL_THRESHOLD
    hold_s: float = 3.0  # how long a decision stays on screen
    claim_timeout_s: float = 20.0  # a typed or badge claim expires after this
    action_kind: str = "none"  # none | command | http | serial
    action_target: str = ""
    action_cooldown_s: float = 10.0
    action_timeout_s: float = 3.0
    thumbnails: bool = False  # audit thumbnails: off by default, for privacy
    attendance: bool = True  # log granted people in the attendance database
    attendance_window_s: float = 300.0
    store_unknown: bool = False  # store unknown faces' entries (else only counted)
    encryption_salt: str = ""  # hex; set when a passphrase protects thumbnails
    encryption_check: str = ""  # hex of a sealed token, to detect a wrong passphrase
    badges: dict[str, str] = field(default_factory=dict)  # badge id -> enrolled name

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        if self.policy not in POLICIES:
            raise KioskConfigError(f"policy must be one of {POLICIES}, not {self.policy!r}")
        if self.action_kind not in KINDS:
            raise KioskConfigError(f"door action must be one of {KINDS}, not {self.action_kind!r}")
        if self.action_kind != "none" and not self.action_target:
            raise KioskConfigError(f"door action {self.action_kind!r} needs a target")
        if self.frames < 1 or self.temporal_frames < 3:
            raise KioskConfigError("frames must be >= 1 and temporal_frames >= 3")

    @property
    def action(self) -> ActionConfig:
        return ActionConfig(self.action_kind, self.action_target, self.action_cooldown_s,
                            self.action_timeout_s)

    def resolve_claim(self, text: str) -> str:
        """A typed name or a badge id (as a keyboard-wedge reader types it) -> a name."""
        text = text.strip()
        return self.badges.get(text, text)

    @classmethod
    def load(cls, home: str | Path) -> KioskConfig:
        path = Path(home) / FILE_NAME
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            raise KioskConfigError(f"{path} is unreadable: {exc}") from exc
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    @classmethod
    def update(cls, home: str | Path, changes: dict) -> KioskConfig:
        """Load ``kiosk.json``, set `changes` (field -> value), save it; the saved config."""
        cfg = cls.load(home)
        for k, v in changes.items():
            setattr(cfg, k, v)
        cfg.save(home)
        return cfg

    def save(self, home: str | Path) -> None:
        self.validate()
        path = Path(home) / FILE_NAME
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        os.replace(tmp, path)
