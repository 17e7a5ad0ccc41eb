"""The impostor cohort of a labelled set: every pair of faces known to be different people.

Known different: photos in two different identity folders of ``people/``; two faces of one
group photo (people in one photo are different people); a face of a group photo and a photo
of an identity that cannot be in it (the PASCAL photos hold none of the ``people/``
identities; the ``bbt*`` photos hold only ``bbt_*`` ones). Pairs of faces from two group
photos are left out: they may be the same person.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..evaluation import embed_folder
from ..images import IMAGE_SUFFIXES, load_image


@dataclass
class Cohort:
    """Genuine and impostor similarities, and what they were measured on."""

    genuine: np.ndarray
    impostor: np.ndarray
    described: str


def _group_faces(engine, groups: Path) -> list[tuple[str, np.ndarray]]:
    """(photo stem, embeddings of its faces) for every group photo in `groups`."""
    out = []
    for photo in sorted(p for p in groups.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        faces = engine.analyze_photo(load_image(photo), min_face=20)
        if faces:
            out.append((photo.stem, np.stack([f.embedding for f in faces])))
    return out


def measure_cohort(engine, root: Path) -> Cohort:
    """Similarities of `engine` on faces-dev-like folder `root` (``people/``, ``groups/``)."""
    root = Path(root)
    labels, embs, _ = embed_folder(engine, root / "people")
    lab = np.asarray(labels)
    sims = embs @ embs.T
    iu = np.triu_indices(len(lab), 1)
    same = (lab[:, None] == lab[None, :])[iu]
    genuine, impostor = [sims[iu][same]], [sims[iu][~same]]
    groups = _group_faces(engine, root / "groups") if (root / "groups").is_dir() else []
    for stem, g in groups:
        within = g @ g.T
        impostor.append(within[np.triu_indices(len(g), 1)])
        # a bbt photo holds bbt_* people only; a PASCAL photo none of the people/ identities
        other = ~np.char.startswith(lab, "bbt_") if stem.startswith("bbt") else np.ones(
            len(lab), bool)
        impostor.append((g @ embs[other].T).ravel())
    faces = sum(len(g) for _, g in groups)
    described = (f"{root}: {len(lab)} photos of {len(set(labels))} identities in people/, "
                 f"{faces} faces of {len(groups)} group photos")
    return Cohort(np.concatenate(genuine), np.concatenate(impostor), described)


def store_tail(engine, root: Path) -> dict:
    """Measure `engine`'s pack on `root` and write ``calibration.impostor_tail`` in its recipe."""
    import json

    from ..modelpack.pack import MANIFESTS
    from .operating_point import ImpostorTail, forget_tails

    cohort = measure_cohort(engine, Path(root))
    block = ImpostorTail.from_scores(cohort.impostor, cohort.genuine, cohort.described).as_json()
    block["command"] = f"facelens impostor-tail {root} --pack {engine.pack_name} --store"
    path = MANIFESTS / f"{engine.pack_name}.json"
    recipe = json.loads(path.read_text(encoding="utf-8"))
    recipe.setdefault("calibration", {})["impostor_tail"] = block
    path.write_text(json.dumps(recipe, indent=2) + "\n", encoding="utf-8")
    forget_tails()
    return block
