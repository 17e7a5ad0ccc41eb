"""The threshold that names a stranger at most once in 1/FPIR identifications (no Qt).

A stranger compared with one enrolled template scores at or above t with probability p(t),
read off the pack's impostor tail (``calibration.impostor_tail`` in ``models/<pack>.json``).
Against N enrolled templates, some one of them does so with probability
FPIR = 1 - (1 - p)^N, so the per-comparison rate that keeps FPIR is p = 1 - (1 - FPIR)^(1/N).
p(t) is taken at its 95% upper bound (counts h read as h + 1.645 sqrt(h) + 1), so a target
is kept rather than met on average. Where the measured pairs are too few to read p directly
(fewer than TAIL_K above t), the tail is extrapolated as an exponential fitted to the TAIL_K
highest scores (peaks over threshold: p(t) = K/n * exp(-(t - u) / beta), u the K-th highest
score, beta their mean excess). The fit is written by hand: it is three lines, and SciPy's
general fits add nothing for it.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # NumPy loads when a tail is used: settings.py imports this module
    import numpy as np

TAIL_K = 50  # highest impostor scores the exponential tail is fitted to
STORED_TOP = 400  # highest impostor scores kept in the recipe
FAR_MIN, FAR_MAX = 1e-7, 0.5


@dataclass(frozen=True)
class ImpostorTail:
    """The `top` impostor similarities (descending) of `pairs` measured, and genuine scores."""

    pairs: int
    top: tuple[float, ...]
    genuine: tuple[float, ...] = ()
    set: str = ""

    def rate(self, t: float) -> float:
        """p(t): the chance that one impostor comparison scores at or above `t` (its 95%
        upper bound, so that a target chosen from it is kept)."""
        import numpy as np

        top = np.asarray(self.top)
        k = min(TAIL_K, len(top))
        hits = int((top >= t - 1e-9).sum())
        if hits >= k or k == 0:
            return min(_upper(hits), self.pairs) / self.pairs
        u, beta = _fit(top, k)
        return min(_upper(k) / self.pairs * math.exp(-(t - u) / beta), 1.0)

    def threshold_for(self, p: float) -> float:
        """The lowest similarity whose per-comparison rate (upper bound) is at most `p`."""
        import numpy as np

        top = np.asarray(self.top)
        k = min(TAIL_K, len(top))
        if k == 0:
            raise ValueError("the impostor tail holds no scores")
        allowed = p * self.pairs  # impostor pairs allowed at or above t
        if allowed >= _upper(k):  # read directly: the most hits whose bound is allowed
            h = k
            while h + 1 < len(top) and _upper(h + 1) <= allowed:
                h += 1
            return float(top[h]) + 1e-4 if h < len(top) else float(top[-1])
        u, beta = _fit(top, k)
        return u + beta * math.log(_upper(k) / allowed)

    def miss_rate(self, t: float) -> float | None:
        """Genuine pairs of the calibration set below `t` (None when none were stored)."""
        import numpy as np

        if not self.genuine:
            return None
        return float((np.asarray(self.genuine) < t).mean())

    def as_json(self) -> dict:
        return {"pairs": self.pairs, "top": [round(v, 4) for v in self.top],
                "genuine": [round(v, 4) for v in self.genuine], "set": self.set}

    @classmethod
    def from_scores(cls, impostor: np.ndarray, genuine: np.ndarray, described: str
                    ) -> ImpostorTail:
        import numpy as np

        top = np.sort(np.asarray(impostor, np.float64))[::-1][:STORED_TOP]
        return cls(int(len(impostor)), tuple(float(v) for v in top),
                   tuple(float(v) for v in np.sort(genuine)), described)

    @classmethod
    def from_json(cls, data: dict) -> ImpostorTail:
        top = tuple(sorted((float(v) for v in data["top"]), reverse=True))
        tail = cls(int(data["pairs"]), top, tuple(float(v) for v in data.get("genuine", ())),
                   str(data.get("set", "")))
        if tail.pairs <= 0 or not top or len(top) > tail.pairs:
            raise ValueError("impostor tail: pairs and scores do not agree")
        return tail


def _upper(hits: int) -> float:
    """One-sided 95% upper bound of a Poisson count of `hits` (Wilson-like: h + 1.645 sqrt(h)
    + 1; the rule of three's spirit at h = 0)."""
    return hits + 1.645 * math.sqrt(hits) + 1.0


def _fit(top: np.ndarray, k: int) -> tuple[float, float]:
    """Exponential tail over the `k` highest scores: its start u and mean excess beta."""
    u = float(top[k - 1])
    return u, max(float((top[:k] - u).mean()), 1e-4)


def per_comparison_rate(fpir: float, gallery_size: int) -> float:
    """p = 1 - (1 - FPIR)^(1/N): the rate per template that keeps FPIR over N templates."""
    n = max(int(gallery_size), 1)
    return -math.expm1(math.log1p(-fpir) / n)


def expected_fpir(p: float, gallery_size: int) -> float:
    """FPIR = 1 - (1 - p)^N."""
    return -math.expm1(max(int(gallery_size), 1) * math.log1p(-min(p, 1.0 - 1e-12)))


@dataclass(frozen=True)
class OperatingPoint:
    """What Settings shows: the threshold in force and what it costs."""

    threshold: float
    fpir: float  # expected rate of strangers named per identification, at this gallery size
    gallery_size: int
    miss_rate: float | None  # genuine pairs of the calibration set below the threshold
    source: str  # "far" (from the target rate) or "threshold" (a raw value)

    def describe(self) -> str:
        miss = "" if self.miss_rate is None else f", misses {self.miss_rate:.1%} of genuine " \
                                                  "pairs of the calibration set"
        return (f"threshold {self.threshold:.3f}: about 1 stranger in "
                f"{_one_in(self.fpir)} named with {self.gallery_size} template(s){miss}")


def _one_in(rate: float) -> str:
    return "never" if rate <= 0 else f"{1 / rate:,.0f}"


def threshold_for_far(tail: ImpostorTail, fpir: float, gallery_size: int,
                      floor: float, ceiling: float) -> float:
    """The threshold for target `fpir` with `gallery_size` templates, within the usable range."""
    t = tail.threshold_for(per_comparison_rate(fpir, gallery_size))
    return float(min(max(t, floor), ceiling))


def operating_point(tail: ImpostorTail | None, threshold: float, gallery_size: int,
                    source: str) -> OperatingPoint:
    """The figures of `threshold` in force over `gallery_size` templates."""
    if tail is None:
        return OperatingPoint(threshold, math.nan, gallery_size, None, source)
    return OperatingPoint(threshold, expected_fpir(tail.rate(threshold), gallery_size),
                          gallery_size, tail.miss_rate(threshold), source)


_TAILS: dict[str, ImpostorTail | None] = {}


def load_tail(pack: str) -> ImpostorTail | None:
    """The pack's impostor tail from its recipe (cached), or None when it has none."""
    if pack not in _TAILS:
        from ..errors import FaceLensError
        from ..modelpack.pack import source_manifest

        try:
            _TAILS[pack] = ImpostorTail.from_json(
                source_manifest(pack)["calibration"]["impostor_tail"])
        except (FaceLensError, OSError, ValueError, KeyError, TypeError,
                json.JSONDecodeError):
            _TAILS[pack] = None
    return _TAILS[pack]


def forget_tails() -> None:
    """Drop the cached tails (after a recipe is re-measured)."""
    _TAILS.clear()


def check_far(value: Any, what: str = "far") -> float:
    """`value` as a usable FPIR target, else ValueError saying what to give."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if isinstance(value, bool) or not math.isfinite(x) or not FAR_MIN <= x <= FAR_MAX:
        raise ValueError(f"{what}: {value!r} is not a usable false-accept rate; give the share "
                         f"of identifications that may name a stranger, from {FAR_MIN:g} to "
                         f"{FAR_MAX:g} (e.g. 0.001 for 1 in 1000)")
    return x
