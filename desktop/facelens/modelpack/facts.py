"""What a user is told about each pack: built or not, size, licence, cost, threshold.

`facelens models list` and the Settings dialog both show these facts; every figure comes
from the pack's recipe (measured by `facelens calibrate` and `facelens bench-engine`).
"""

from __future__ import annotations

from pathlib import Path

from ..paths import models_home
from .pack import MANIFEST, source_manifest


def pack_facts(name: str, home: Path | None = None) -> dict:
    """The facts of pack `name`, with a one-line ``summary`` for people."""
    recipe = source_manifest(name)
    target = (home or models_home()) / name
    built = (target / MANIFEST).exists()
    size = sum(int(m.get("bytes", 0)) for m in recipe["models"].values())
    src, calib, cost = recipe["source"], recipe.get("calibration", {}), recipe.get("cost", {})
    roles = recipe.get("roles", {})
    facts = {
        "pack": name,
        "built": built,
        "dir": str(target),
        "size_mb": round(size / 1e6, 1),
        "licence": src.get("licence"),
        "commercial_use": bool(src.get("commercial_use", False)),
        "source": src.get("kind"),
        "detector": roles.get("detector", {}).get("kind"),
        "embedder": roles.get("embedder", {}).get("kind"),
        "antispoof": roles.get("antispoof", {}).get("kind"),
        "embed_ms_per_face": cost.get("embed_ms_per_face"),
        "cost_measured_on": cost.get("machine"),
        "threshold": calib.get("threshold"),
        "far": calib.get("far"),
        "far_upper95": calib.get("far_upper95"),
        "frr": calib.get("frr"),
        "calibrated_on": calib.get("set"),
    }
    facts["summary"] = describe(facts)
    return facts


def describe(f: dict) -> str:
    """One line per pack, as `facelens models list` prints it."""
    cost = (f"{f['embed_ms_per_face']:.0f} ms per face" if f["embed_ms_per_face"] is not None
            else "cost not measured")
    calib = (f"threshold {f['threshold']:.2f} (false accepts {f['far']:.2%} of impostor pairs, "
             f"at most {f['far_upper95']:.2%})" if f["threshold"] is not None
             else "not calibrated")
    use = "commercial use allowed" if f["commercial_use"] else "non-commercial use only"
    spoof = "anti-spoofing" if f["antispoof"] else "no anti-spoofing"
    return (f"{f['pack']:9s} {'built' if f['built'] else 'not built'}, {f['size_mb']} MB; "
            f"{use}; {cost}; {calib}; {spoof}")
