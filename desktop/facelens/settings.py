"""One typed settings object, stored as JSON in the data folder."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

FILE_NAME = "settings.json"


@dataclass
class Settings:
    """User settings; unknown keys in the file are ignored, missing ones take defaults."""

    threshold: float | None = None  # None: the model pack's calibrated default
    provider: str = "auto"  # auto | cpu | cuda
    model_pack: str = "lite"
    min_face: int = 40  # pixels, in the full-resolution frame
    detect_scale: float = 0.5  # live detection runs on the frame scaled by this factor
    recheck_frames: int = 15  # a tracked face is re-embedded every this many processed frames
    detect_every: int = 2  # live detection runs on every n-th frame; tracks bridge the rest
    keep_thumbnails: bool = True
    attendance_mode: bool = False  # log recognised people in the data folder's attendance.db
    attendance_window_s: float = 300.0  # a person is logged at most once per this many seconds
    attendance_store_unknown: bool = False  # unknown faces: counted per day; stored only if on
    gallery_url: str | None = None  # central gallery postgresql:// URL, never with a password

    def match_threshold(self, default: float) -> float:
        """The similarity a match needs: the user's setting, else the pack's `default`."""
        return float(self.threshold if self.threshold is not None else default)

    @classmethod
    def load(cls, home: Path) -> Settings:
        """Read settings from `home`; defaults when the file is missing or unreadable."""
        path = Path(home) / FILE_NAME
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def save(self, home: Path) -> None:
        """Write settings atomically (a crash leaves the old file or the new one)."""
        path = Path(home) / FILE_NAME
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        os.replace(tmp, path)
