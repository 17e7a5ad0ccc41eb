"""The match threshold in force: one rule for the app, the commands and the kiosk.

Precedence, first that is set: a per-call override (``--threshold``, then ``--far``), the
kiosk's own (``kiosk.json``, at the door only: ``threshold``, then ``far``), the user's
(``settings.json``: ``threshold``, then ``far``), the model pack's calibrated default. A
``far`` (the share of identifications that may name a stranger) becomes a threshold through
the pack's impostor tail and the number of templates searched (:mod:`facelens.openset.
operating_point`); without a pack or a tail it falls back to the pack's default.
Every value is a cosine similarity in ``[THRESHOLD_MIN, THRESHOLD_MAX]``:
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
                      override: float | None = None, *, pack: str | None = None,
                      gallery_size: int | None = None, far: float | None = None,
                      home: Any = None) -> float:
    """The threshold in force (see the module's precedence); `far` is a per-call ``--far``;
    `home`: the data folder, whose site calibration (if any) replaces the pack's tail."""
    return resolve_operating_point(pack_default, settings, kiosk, override, pack=pack,
                                   gallery_size=gallery_size, far=far, home=home).threshold


def resolve_operating_point(pack_default: float, settings: Any = None, kiosk: Any = None,
                            override: float | None = None, *, pack: str | None = None,
                            gallery_size: int | None = None, far: float | None = None,
                            home: Any = None):
    """The operating point in force: its threshold, expected false-accept rate per
    identification over `gallery_size` templates and miss rate on the pack's calibration set."""
    from .openset.operating_point import (
        check_far,
        load_tail,
        operating_point,
        threshold_for_far,
    )
    from .openset.site import load_site_tail

    tail = (load_site_tail(home, pack) or load_tail(pack)) if pack else None
    n = max(int(gallery_size or 1), 1)
    if override is not None:
        return operating_point(tail, check_threshold(override, "--threshold"), n, "threshold")
    chosen: list[tuple[str, Any]] = [("far", far)]
    for source in (kiosk, settings):
        chosen += [("threshold", getattr(source, "threshold", None)),
                   ("far", getattr(source, "far", None))]
    for kind, value in chosen:
        if value is None:
            continue
        if kind == "threshold":
            return operating_point(tail, float(value), n, "threshold")
        if tail is not None:
            t = threshold_for_far(tail, check_far(value), n, THRESHOLD_MIN, THRESHOLD_MAX)
            return operating_point(tail, t, n, "far")
        break  # a target rate but no measured tail: the pack's default
    return operating_point(tail, float(pack_default), n, "default")


def far_arg(text: str) -> float:
    """argparse type for ``--far``: a rate (0.001) or "1/1000"."""
    from .openset.operating_point import check_far

    try:
        num, _, den = text.partition("/")
        value = float(num) / float(den) if den else float(num)
        return check_far(value, "--far")
    except (ValueError, ZeroDivisionError) as exc:
        raise argparse.ArgumentTypeError(
            str(exc).removeprefix("--far: ") if "usable" in str(exc) else
            f"{text!r} is not a rate; give e.g. 0.001 or 1/1000") from None


def threshold_arg(text: str) -> float | str:
    """argparse type: a threshold, or ``default`` (returned as is) for the pack's default."""
    if text.strip().lower() == DEFAULT_WORD:
        return DEFAULT_WORD
    try:
        return check_threshold(text)
    except ThresholdError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("threshold: ")) from None
