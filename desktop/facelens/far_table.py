"""The false-accept rate at any threshold, from a pack's measured impostor scores (no Qt).

The pack manifest's ``calibration.far_table`` (``models/<pack>.json``) counts, for every
threshold 0.00, 0.01, ... 1.00, the different-person photo pairs of the calibration set whose
cosine similarity reaches it. ``python -m facelens.far_table ../shared/faces-dev/people``
(the set ``facelens calibrate`` uses) measures it and prints the JSON to put there, so the
rate shown for a threshold is measured, not guessed.
"""

from __future__ import annotations

import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

STEPS = 100  # thresholds 0.00 .. 1.00


@dataclass(frozen=True)
class FarTable:
    """Impostor pairs at or above each threshold i / STEPS, of `pairs` measured on `set`."""

    pairs: int
    at_or_above: tuple[int, ...]
    set: str = ""

    def count(self, threshold: float) -> int:
        """Impostor pairs accepted at `threshold` (between two steps: the lower step's count,
        an upper bound)."""
        i = math.floor(round(float(threshold) * STEPS, 6))
        if i < 0:
            return self.pairs
        return 0 if i > STEPS else self.at_or_above[i]

    def far(self, threshold: float) -> float:
        return self.count(threshold) / self.pairs

    def describe(self, threshold: float) -> str:
        """E.g. "0.38% (15 of 3961 stranger pairs)"; for none, the 95% upper bound."""
        n = self.count(threshold)
        if n == 0:
            return f"below {3 / self.pairs:.2%} (0 of {self.pairs} stranger pairs; 95% bound)"
        return f"{n / self.pairs:.2%} ({n} of {self.pairs} stranger pairs)"


def load_far_table(pack: str) -> FarTable | None:
    """The pack's table, or None when it has none (or it cannot be read)."""
    from .errors import FaceLensError
    from .modelpack.pack import source_manifest

    try:
        data = source_manifest(pack)["calibration"]["far_table"]
        table = FarTable(int(data["impostor_pairs"]), tuple(int(v) for v in data["at_or_above"]),
                         str(data.get("set", "")))
    except (FaceLensError, OSError, ValueError, KeyError, TypeError):
        return None
    return table if len(table.at_or_above) == STEPS + 1 and table.pairs > 0 else None


def impostor_scores(engine, root: Path) -> np.ndarray:
    """Cosine similarities of every pair of photos of different people under `root`."""
    from .evaluation import embed_folder

    labels, embs, _ = embed_folder(engine, root)
    lab = np.asarray(labels)
    iu = np.triu_indices(len(lab), 1)
    different = (lab[:, None] != lab[None, :])[iu]
    return (embs @ embs.T)[iu][different]


def measure(engine, root: Path) -> dict:
    """The table of `root` as JSON-ready data (for ``calibration.far_table``)."""
    scores = impostor_scores(engine, Path(root))
    counts = [int((scores >= i / STEPS - 1e-9).sum()) for i in range(STEPS + 1)]
    return {"set": str(root), "impostor_pairs": int(len(scores)), "step": 1 / STEPS,
            "at_or_above": counts, "command": f"python -m facelens.far_table {root}"}


def main(argv: list[str]) -> int:
    """Measure the `lite` pack's table on a labelled folder and print it as JSON."""
    from .engine.recognizer import FaceEngine

    if len(argv) != 1 or not Path(argv[0]).is_dir():
        print("far_table: give one folder with a sub-folder of photos per person, e.g. "
              "python -m facelens.far_table ../shared/faces-dev/people", file=sys.stderr)
        return 2
    print(json.dumps(measure(FaceEngine.load("lite", "cpu"), Path(argv[0]))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
