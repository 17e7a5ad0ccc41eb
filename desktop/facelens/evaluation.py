"""Accuracy on a labelled folder (one sub-folder per identity): pairs and one-shot protocol.

Pairs: every two photos; genuine (same folder) vs impostor similarities give the false-accept
and false-reject rates at a threshold. One-shot: the first photo of every other identity is
enrolled into a real gallery; the other photos of enrolled people must be named correctly, and
the photos of the rest must come back "not recognised".
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .engine.recognizer import FaceEngine
from .errors import FaceLensError
from .gallery import Gallery
from .images import IMAGE_SUFFIXES, load_image
from .thresholds import resolve_threshold


def _natural(p: Path) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]


def labelled_photos(root: Path) -> dict[str, list[Path]]:
    """identity -> photos (natural order) for every sub-folder of `root` holding images.

    Raises FaceLensError when `root` is missing, not a folder, or has no such sub-folders.
    """
    root = Path(root)
    if not root.exists():
        raise FaceLensError(f"{root}: no such folder; give a folder with one sub-folder of "
                            "photos per person (e.g. people/amy/1.jpg)")
    if not root.is_dir():
        raise FaceLensError(f"{root}: is a file, not a folder; give a folder with one "
                            "sub-folder of photos per person (e.g. people/amy/1.jpg)")
    out = {}
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        photos = sorted((p for p in d.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES),
                        key=_natural)
        if photos:
            out[d.name] = photos
    if not out:
        kinds = ", ".join(sorted(IMAGE_SUFFIXES))
        raise FaceLensError(f"{root}: no sub-folders with photos ({kinds}); calibrate needs "
                            "one sub-folder per person, e.g. people/amy/1.jpg")
    return out


@dataclass
class Report:
    """Figures of one evaluation run at one threshold."""

    threshold: float
    identities: int
    photos: int
    undetected: int
    genuine_pairs: int
    impostor_pairs: int
    pair_far: float  # impostor pairs at or above the threshold
    pair_frr: float  # genuine pairs below it
    max_impostor: float
    min_genuine: float
    oneshot_enrolled: int
    oneshot_probes_known: int
    oneshot_probes_unknown: int
    rank1: float | None  # known probes whose best match is the right person (None: no probes)
    car: float | None  # known probes named correctly at the threshold
    far: float | None  # unknown probes given a name at the threshold
    misidentified: int  # known probes given the wrong name at the threshold

    def as_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def embed_folder(engine: FaceEngine, root: Path) -> tuple[list[str], np.ndarray, int]:
    """Labels and embeddings of the largest face of every photo; count of photos with none."""
    labels, embs, missed = [], [], 0
    for name, photos in labelled_photos(root).items():
        for photo in photos:
            faces = engine.analyze_photo(load_image(photo))
            if not faces:
                missed += 1
                continue
            labels.append(name)
            embs.append(faces[0].embedding)
    if len(set(labels)) < 2 or len(labels) == len(set(labels)):
        raise FaceLensError(
            f"{root}: calibrating needs faces of at least two people and two photos of one of "
            f"them; found {len(labels)} face(s) of {len(set(labels))} person(s) "
            f"({missed} photo(s) without a face)")
    return labels, np.stack(embs), missed


def evaluate(engine: FaceEngine, root: Path, threshold: float | None = None) -> Report:
    """Run both protocols on the labelled folder `root`."""
    t = resolve_threshold(engine.default_threshold, override=threshold)
    return evaluate_embeddings(engine, *embed_folder(engine, root), t)


def evaluate_embeddings(engine: FaceEngine, labels: list[str], embs: np.ndarray, missed: int,
                        t: float) -> Report:
    """Both protocols on embeddings already made by :func:`embed_folder`, at threshold `t`."""
    lab = np.asarray(labels)
    sims = embs @ embs.T
    iu = np.triu_indices(len(lab), 1)
    same = (lab[:, None] == lab[None, :])[iu]
    genuine, impostor = sims[iu][same], sims[iu][~same]

    names = sorted(set(labels))
    enrolled = set(names[::2])
    first = {n: labels.index(n) for n in enrolled}
    with tempfile.TemporaryDirectory() as tmp:
        gallery = Gallery.open(Path(tmp) / "eval.db", engine.model_id, engine.dim)
        for n, i in first.items():
            gallery.enrol(n, embs[i:i + 1])
        probes = [i for i in range(len(labels)) if i not in first.values()]
        matches = gallery.identify(embs[probes], -1.0)  # best match regardless of threshold
        gallery.close()
    known = [(i, m) for i, m in zip(probes, matches, strict=True) if labels[i] in enrolled]
    unknown = [m for i, m in zip(probes, matches, strict=True) if labels[i] not in enrolled]
    rank1 = _share([m.name == labels[i] for i, m in known])
    car = _share([m.name == labels[i] and m.similarity >= t for i, m in known])
    wrong = sum(m.name != labels[i] and m.similarity >= t for i, m in known)
    far = _share([m.similarity >= t for m in unknown])
    return Report(t, len(names), len(labels) + missed, missed, int(same.sum()),
                  int((~same).sum()), float((impostor >= t).mean()),
                  float((genuine < t).mean()), float(impostor.max()), float(genuine.min()),
                  len(enrolled), len(known), len(unknown), rank1, car, far, int(wrong))


CALIBRATION_MARGIN = 0.05  # the threshold sits this far above the highest impostor pair...
CALIBRATION_STEP = 0.05  # ...rounded up to a multiple of this


def calibrated_threshold(max_impostor: float) -> float:
    """The highest impostor similarity plus a margin of 0.05, rounded up to a multiple of 0.05."""
    steps = np.ceil(round((max_impostor + CALIBRATION_MARGIN) / CALIBRATION_STEP, 6))
    return round(float(steps) * CALIBRATION_STEP, 4)


def calibrate_pack(engine: FaceEngine, root: Path, described_as: str) -> dict:
    """The recipe's ``calibration`` block for `engine`'s pack, measured on folder `root`.

    With no impostor pair above the threshold, the false-accept rate is 0 observed and its
    95% upper bound is 3 / impostor pairs (the rule of three).
    """
    labels, embs, missed = embed_folder(engine, root)
    first = evaluate_embeddings(engine, labels, embs, missed, engine.default_threshold)
    t = calibrated_threshold(first.max_impostor)
    rep = evaluate_embeddings(engine, labels, embs, missed, t)
    far_hits = round(rep.pair_far * rep.impostor_pairs)
    upper = (3.0 if far_hits == 0 else 1.96 * np.sqrt(far_hits) + far_hits) / rep.impostor_pairs
    return {
        "threshold": t,
        "metric": f"cosine similarity of L2-normalised {engine.dim}-d embeddings",
        "rule": "highest impostor pair + 0.05, rounded up to 0.05",
        "set": f"{described_as}: {rep.photos} photos, {rep.identities} identities "
               f"({rep.undetected} without a detected face)",
        "genuine_pairs": rep.genuine_pairs,
        "impostor_pairs": rep.impostor_pairs,
        "max_impostor": round(rep.max_impostor, 4),
        "min_genuine": round(rep.min_genuine, 4),
        "far": round(rep.pair_far, 5),
        "far_upper95": round(float(upper), 5),
        "frr": round(rep.pair_frr, 4),
        "oneshot_car": None if rep.car is None else round(rep.car, 4),
        "oneshot_far": None if rep.far is None else round(rep.far, 4),
        "command": f"facelens calibrate {described_as} --pack {engine.pack_name} --store",
    }


def _share(hits: list[bool]) -> float | None:
    """The share of True in `hits`; None when there is nothing to count (no such probes)."""
    return float(np.mean(hits)) if hits else None
