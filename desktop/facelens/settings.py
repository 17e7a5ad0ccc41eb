"""One typed settings object, stored as JSON in the data folder."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from . import config_schema
from .atomic_write import write_atomic
from .config_schema import ConfigError, setting
from .modelpack.names import NAME_PATTERN, recognition_packs
from .openset.operating_point import FAR_MAX, FAR_MIN
from .thresholds import THRESHOLD_MAX, THRESHOLD_MIN, resolve_threshold

FILE_NAME = "settings.json"
PROVIDERS = ("auto", "cpu", "cuda")  # runtime.PROVIDER_CHOICES (not imported: it loads ORT)
DEFAULT_NOTE = "the model pack's calibrated default"
DEFAULT_FAR = 0.001  # 1 stranger named in 1000 identifications


class SettingsError(ConfigError):
    """``settings.json`` holds something it cannot: one line per problem."""


@dataclass
class Settings:
    """User settings; unknown keys in the file are ignored, missing ones take defaults.

    Each field's type and declared range are its validation (see :mod:`config_schema`).
    """

    threshold: float | None = setting(None, min=THRESHOLD_MIN, max=THRESHOLD_MAX,
                                      null=DEFAULT_NOTE)  # None: the pack's default
    # share of identifications that may name a stranger (0.001: 1 in 1000); used when
    # `threshold` is None, through the pack's impostor tail and the gallery size
    far: float | None = setting(DEFAULT_FAR, min=FAR_MIN, max=FAR_MAX,
                                null=DEFAULT_NOTE)
    provider: str = setting("auto", choices=PROVIDERS)  # auto | cpu | cuda
    model_pack: str = setting("lite", pattern=NAME_PATTERN, choices=recognition_packs,  # a name
                              pattern_says="is a path or not a pack name (letters, digits, "
                                           "- and _ only)")
    min_face: int = setting(40, min=8, max=4000)  # pixels, in the full-resolution frame
    detect_scale: float = setting(0.5, min=0.1, max=1.0)  # live detection's frame scale
    recheck_frames: int = setting(15, min=1, max=10000)  # re-embed a track every n frames
    detect_every: int = setting(4, min=1, max=1000)  # live detection on every n-th frame
    keep_thumbnails: bool = True
    attendance_mode: bool = False  # log recognised people in the data folder's attendance.db
    attendance_window_s: float = setting(300.0, min=0.0, max=7 * 86400.0)  # once per window
    attendance_store_unknown: bool = False  # unknown faces: counted per day; stored only if on
    unknown_review: bool = False  # keep the best crop of faces never recognised, for review
    unknown_retention_days: float = setting(30.0, min=0.0, max=3650.0)  # then deleted
    site_calibration: bool = False  # keep unknown faces' embeddings (not images) for the tail
    gallery_encrypted: bool = False  # set by `gallery encrypt`: a clear gallery is then refused
    gallery_url: str | None = None  # central gallery postgresql:// URL, never with a password

    def __post_init__(self) -> None:
        problems = config_schema.problems_of(self)
        if problems:
            raise SettingsError(problems)

    def match_threshold(self, default: float, pack: str | None = None,
                        gallery_size: int | None = None, home: Path | None = None) -> float:
        """The similarity a match needs: the user's threshold, else the one that keeps `far`
        over `gallery_size` templates of `pack` (the site's tail of data folder `home` where
        calibrated), else the pack's `default`."""
        return resolve_threshold(default, settings=self, pack=pack, gallery_size=gallery_size,
                                 home=home)

    @classmethod
    def load(cls, home: Path) -> Settings:
        """Read settings from `home`: defaults when there is no file; SettingsError (every
        problem, one line each) when the file is damaged or holds a value it cannot."""
        return config_schema.load(cls, Path(home) / FILE_NAME, SettingsError)

    def save(self, home: Path) -> None:
        """Write settings atomically: a crash, a full disk or a read-only folder leave the old
        file (WriteError says which)."""
        write_atomic(Path(home) / FILE_NAME, json.dumps(asdict(self), indent=2))
