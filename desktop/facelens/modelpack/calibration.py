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


def store_cost(name: str, figures: dict) -> dict:
    """Write the recipe's ``cost`` block from `facelens bench-engine` figures; returns it.

    The block names the machine's core count and load, as the figures depend on them.
    """
    import os

    block = {
        "embed_ms_per_face": figures["embed_ms_per_face_b1"],
        "detect_ms_640x480_1face": figures["det_ms_640_1face"],
        "provider": figures["provider"],
        "machine": f"{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f}",
        "command": f"facelens bench-engine --pack {name} --store",
    }
    path = MANIFESTS / f"{name}.json"
    recipe = json.loads(path.read_text(encoding="utf-8"))
    recipe["cost"] = block
    path.write_text(json.dumps(recipe, indent=2) + "\n", encoding="utf-8")
    return block
