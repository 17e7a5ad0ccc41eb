"""Store a pack's measured threshold in its recipe (``facelens calibrate ... --store``).

The block says what it was measured on, by which rule and command, so a threshold is never
used without saying for which model and at what false-accept rate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from .pack import MANIFESTS

if TYPE_CHECKING:
    from ..engine.recognizer import FaceEngine


def store_calibration(engine: FaceEngine, root: Path, described_as: str) -> dict:
    """Measure `engine`'s pack on labelled folder `root` and write the recipe's calibration."""
    from ..evaluation import calibrate_pack

    block = calibrate_pack(engine, root, described_as)
    path = MANIFESTS / f"{engine.pack_name}.json"
    recipe = json.loads(path.read_text(encoding="utf-8"))
    recipe["calibration"] = block
    path.write_text(json.dumps(recipe, indent=2) + "\n", encoding="utf-8")
    return block
