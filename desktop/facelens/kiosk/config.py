"""The kiosk's settings: one typed object stored as ``kiosk.json`` in the data folder."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import config_schema
from ..atomic_write import write_atomic
from ..config_schema import ConfigError, setting
from ..openset.operating_point import FAR_MAX, FAR_MIN
from ..thresholds import THRESHOLD_MAX, THRESHOLD_MIN
from .actions import KINDS, ActionConfig

FILE_NAME = "kiosk.json"
POLICIES = ("identify", "verify")
# Calibrated on the dev photos (`facelens kiosk calibrate-liveness`, README "Kiosk"): 42
# hand-held print videos scored <= 0.014, 42 sequences of a person's different photos (a
# stand-in for a living face) >= 0.32. A real face changes less than the stand-in (a
# synthetic two-frame blink on a real crop scores 0.052), so the threshold sits low in the
# gap: about 2x the highest print and half the blink.
TEMPORAL_THRESHOLD = 0.025


class KioskConfigError(ConfigError):
    """A kiosk setting has a value it cannot take (one line per problem)."""


HEX = r"([0-9a-fA-F]{2})*"


@dataclass
class KioskConfig:
    """The door's settings. Each field's type and declared range are its validation (see
    :mod:`facelens.config_schema`); `validate` adds the rules between fields."""

    # identify: anyone enrolled; verify: the claimed person only
    policy: str = setting("identify", choices=POLICIES)
    # recognition; None: the app's setting, else the model pack's calibrated default
    threshold: float | None = setting(None, min=THRESHOLD_MIN, max=THRESHOLD_MAX,
                                      null="the app's threshold or the pack's default")
    # share of identifications that may name a stranger; used when `threshold` is None
    far: float | None = setting(None, min=FAR_MIN, max=FAR_MAX, null="the app's setting")
    frames: int = setting(5, min=1, max=1000)  # consecutive frames that must agree
    min_face_px: int = setting(80, min=8, max=4000)  # smaller faces get "Move closer"
    # FaceAntiSpoofing authors' value; lower score = live
    antispoof_threshold: float = setting(0.2, min=0.0, max=10.0)
    min_sharpness: int = setting(1000, min=0, max=10_000_000)  # authors' Laplacian count
    temporal_frames: int = setting(8, min=3, max=64)  # depth of the 3D-convolution volume
    temporal_threshold: float = setting(TEMPORAL_THRESHOLD, min=0.0, max=10.0)
    hold_s: float = setting(3.0, min=0.0, max=3600.0)  # how long a decision stays on screen
    claim_timeout_s: float = setting(20.0, min=0.0, max=3600.0)  # a claim expires after this
    action_kind: str = setting("none", choices=KINDS)  # none | command | http | serial
    action_target: str = ""
    action_cooldown_s: float = setting(10.0, min=0.0, max=86400.0)
    action_timeout_s: float = setting(3.0, min=0.1, max=600.0)
    thumbnails: bool = False  # audit thumbnails: off by default, for privacy
    attendance: bool = True  # log granted people in the attendance database
    attendance_window_s: float = setting(300.0, min=0.0, max=7 * 86400.0)
    store_unknown: bool = False  # store unknown faces' entries (else only counted)
    # hex; set when thumbnails are sealed / of a sealed token, to detect a wrong passphrase
    encryption_salt: str = setting("", pattern=HEX, pattern_says="is not hex")
    encryption_check: str = setting("", pattern=HEX, pattern_says="is not hex")
    badges: dict[str, str] = setting(default_factory=dict)  # badge id -> enrolled name

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """KioskConfigError listing every field out of its declared range, and the rules
        between fields (a door action needs a target)."""
        problems = config_schema.problems_of(self)
        if not problems and self.action_kind != "none" and not self.action_target:
            problems.append(f"action_target: door action {self.action_kind!r} needs a "
                            "target; give the URL, command or device")
        if problems:
            raise KioskConfigError(problems)

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
        """``kiosk.json`` of `home`; defaults without one; KioskConfigError (every problem,
        one line each) for a damaged file or values it cannot hold."""
        return config_schema.load(cls, Path(home) / FILE_NAME, KioskConfigError)

    @classmethod
    def update(cls, home: str | Path, changes: dict) -> KioskConfig:
        """Load ``kiosk.json``, set `changes` (field -> value), save it; the saved config."""
        cfg = cls.load(home)
        for k, v in changes.items():
            setattr(cfg, k, v)
        try:
            cfg.save(home)
        except KioskConfigError as exc:
            raise KioskConfigError(exc.problems, Path(home) / FILE_NAME) from None
        return cfg

    def save(self, home: str | Path) -> None:
        """Write ``kiosk.json`` atomically (a full disk or read-only folder: WriteError, the
        old file kept)."""
        self.validate()
        write_atomic(Path(home) / FILE_NAME, json.dumps(asdict(self), indent=2))
