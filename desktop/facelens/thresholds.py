"""The match threshold in force: one rule for the app, the commands and the kiosk.

Precedence, first that is set: a per-call override (``--threshold``), the kiosk's own
(``kiosk.json``, at the door only), the user's (``settings.json``), the model pack's
calibrated default. Every value is a cosine similarity in ``[THRESHOLD_MIN, THRESHOLD_MAX]``:
below it nearly every stranger matches someone; ``-1`` would admit everyone.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from .errors import FaceLensError

THRESHOLD_MIN = 0.05
THRESHOLD_MAX = 1.0
DEFAULT_WORD = "default"  # `kiosk config --threshold default`: back to the pack's default


class ThresholdError(FaceLensError):
    """A threshold outside the range a cosine-similarity match can use."""


def check_threshold(value: Any, what: str = "threshold") -> float:
    """`value` as a float if it is a usable threshold; ThresholdError saying why not."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if isinstance(value, bool) or not math.isfinite(x) \
            or not THRESHOLD_MIN <= x <= THRESHOLD_MAX:
        raise ThresholdError(f"{what}: {value!r} is not a usable threshold; use a cosine "
                             f"similarity from {THRESHOLD_MIN} to {THRESHOLD_MAX} (lower "
                             "admits strangers)")
    return x


def resolve_threshold(pack_default: float, settings: Any = None, kiosk: Any = None,
                      override: float | None = None) -> float:
    """The threshold in force: `override`, else `kiosk`.threshold, else `settings`.threshold,
    else `pack_default` (the first that is not None)."""
    if override is not None:
        return check_threshold(override, "--threshold")
    for source in (kiosk, settings):
        value = getattr(source, "threshold", None)
        if value is not None:
            return float(value)
    return float(pack_default)


def threshold_arg(text: str) -> float | str:
    """argparse type: a threshold, or ``default`` (returned as is) for the pack's default."""
    if text.strip().lower() == DEFAULT_WORD:
        return DEFAULT_WORD
    try:
        return check_threshold(text)
    except ThresholdError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("threshold: ")) from None
