"""Strangers named and people recognised, before and after the operating point (no Qt).

``python -m facelens.openset.compare ../shared/faces-dev --pack lite``: over 20 random splits
of the identities of ``people/`` (7 enrolled from their first photo, 7 strangers), the share of
stranger photos given a name (false-accept rate, FPIR) and of the enrolled people's other photos
named correctly (correct-accept rate), at the pack's calibrated threshold ("before") and at the
default operating point (``far`` 0.001 over the templates enrolled, "after"), with and without
the strangers of the PASCAL group photos enrolled as distractor templates.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

SPLITS = 20


def compare(engine, root: Path, far: float = 0.001, distractors: bool = False) -> dict:
    from ..evaluation import embed_folder
    from ..gallery import Gallery
    from ..images import load_image
    from ..settings import Settings
    from ..thresholds import resolve_threshold

    labels, embs, _ = embed_folder(engine, root / "people")
    lab = np.asarray(labels)
    names = sorted(set(labels))
    extra = [f.embedding for p in sorted((root / "groups").glob("20*.jpg"))
             for f in engine.analyze_photo(load_image(p), min_face=20)] if distractors else []
    counts = {k: [0, 0] for k in ("far_before", "car_before", "far_after", "car_after")}
    thresholds = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(SPLITS):
            order = list(np.random.default_rng(seed).permutation(names))
            enrolled, strangers = order[:7], order[7:]
            g = Gallery.open(Path(tmp) / f"{seed}.db", engine.model_id, engine.dim)
            for n in enrolled:
                g.enrol(n, embs[np.flatnonzero(lab == n)[:1]])
            for i, e in enumerate(extra):
                g.enrol(f"distractor {i}", e[None])
            after = resolve_threshold(engine.default_threshold, Settings(far=far),
                                      pack=engine.pack_name, gallery_size=g.count_templates())
            thresholds.append(after)
            unknown = np.flatnonzero(np.isin(lab, strangers))
            known = [i for n in enrolled for i in np.flatnonzero(lab == n)[1:]]
            for when, t in (("before", engine.default_threshold), ("after", after)):
                named = g.identify(embs[unknown], t)
                right = g.identify(embs[known], t)
                counts[f"far_{when}"][0] += sum(m.name is not None for m in named)
                counts[f"far_{when}"][1] += len(unknown)
                counts[f"car_{when}"][0] += sum(m.name == lab[i] for i, m in
                                                zip(known, right, strict=True))
                counts[f"car_{when}"][1] += len(known)
            g.close()
    out = {"pack": engine.pack_name, "splits": SPLITS, "far_target": far,
           "distractor_templates": len(extra), "threshold_before": engine.default_threshold,
           "threshold_after_mean": round(float(np.mean(thresholds)), 4)}
    for k, (hit, total) in counts.items():
        out[k] = f"{hit}/{total} = {hit / total:.2%}"
    return out


def main(argv: list[str]) -> int:
    from ..engine.recognizer import FaceEngine

    ap = argparse.ArgumentParser(prog="python -m facelens.openset.compare")
    ap.add_argument("folder")
    ap.add_argument("--pack", default="lite")
    ap.add_argument("--far", type=float, default=0.001)
    args = ap.parse_args(argv)
    engine = FaceEngine.load(args.pack, "cpu")
    for distractors in (False, True):
        print(json.dumps(compare(engine, Path(args.folder), args.far, distractors)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
