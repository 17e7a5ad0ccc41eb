"""Per-track smoothing of similarity scores: a causal 1D convolution plus hysteresis.

Each re-check of a tracked face gives the best gallery candidate and its cosine similarity.
For every candidate name the recent scores form a time series (0 where another name won);
the series is convolved with a short half-Gaussian kernel that weights the newest score most.
A label is taken when its smoothed score reaches the threshold and kept until it falls
``hysteresis`` below it, so one bad frame does not flip a name or drop it to "not recognised".
"""

from __future__ import annotations

from collections import deque

import numpy as np


def half_gaussian(window: int, sigma: float | None = None) -> np.ndarray:
    """Kernel weights for lags 0..window-1 (lag 0 = newest), summing to 1."""
    sigma = sigma or max(window / 2.0, 1e-6)
    weights = np.exp(-0.5 * (np.arange(window) / sigma) ** 2)
    return (weights / weights.sum()).astype(np.float32)


def smooth_last(series: np.ndarray, kernel: np.ndarray) -> float:
    """Newest value of `series` convolved with `kernel` (renormalised for a short series)."""
    n = min(len(series), len(kernel))
    if n == 0:
        return 0.0
    k = kernel[:n]
    return float(np.convolve(series[-n:], k, mode="valid")[-1] / k.sum())


class ScoreSmoother:
    """Smoothed label of one track from its recent (name, similarity) observations."""

    def __init__(self, window: int = 5, hysteresis: float = 0.05):
        self.kernel = half_gaussian(window)
        self.hysteresis = hysteresis
        self.history: deque[tuple[str | None, float]] = deque(maxlen=window)
        self.current: str | None = None
        self._decided: tuple[float, tuple[str | None, float]] | None = None  # threshold, answer

    def __len__(self) -> int:
        return len(self.history)

    def add(self, name: str | None, similarity: float) -> None:
        """Record one observation: the best candidate (None for an empty gallery) and its score."""
        self.history.append((name, float(similarity)))
        self._decided = None

    def restart(self, name: str | None, similarity: float) -> None:
        """Forget the history and record one observation: the newest answer supersedes the
        earlier ones (a track's pooled identity that has grown by one more crop)."""
        self.history.clear()
        self.add(name, similarity)

    def score(self, name: str | None) -> float:
        """Smoothed similarity of `name` over the window."""
        series = np.array([s if n == name else 0.0 for n, s in self.history], np.float32)
        return smooth_last(series, self.kernel)

    def decide(self, threshold: float) -> tuple[str | None, float]:
        """The label to show (None: not recognised) and the smoothed score behind it.

        The live view asks on every frame while observations come far less often: the answer
        is kept until the next :meth:`add` or another threshold (deciding again on the same
        history gives the same answer).
        """
        if self._decided is not None and self._decided[0] == threshold:
            return self._decided[1]
        answer = self._decide(threshold)
        self._decided = (threshold, answer)
        return answer

    def _decide(self, threshold: float) -> tuple[str | None, float]:
        names = {n for n, _ in self.history if n is not None}
        if not names:
            self.current = None
            return None, self.history[-1][1] if self.history else 0.0
        scores = {n: self.score(n) for n in names}
        best = max(scores, key=scores.get)
        current = self.current if self.current in scores else None
        if current is not None:
            if scores[current] < threshold - self.hysteresis:
                current = None
            elif best != current and scores[best] >= threshold \
                    and scores[best] > scores[current] + self.hysteresis:
                current = best
        if current is None and scores[best] >= threshold:
            current = best
        self.current = current
        return current, scores[current] if current is not None else scores[best]
