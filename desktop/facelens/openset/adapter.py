"""A linear adapter learned from corrections with a triplet loss (NumPy, no GPU; no Qt).

The embedder stays frozen; a d x d matrix W (started at the identity) maps each embedding x to
normalise(W x). Training triplets (anchor, positive, negative): anchor and positive are two
templates of one person, the negative another person's template or one of the anchor person's
"not X" negatives. The loss is max(0, d(a, p) - d(a, n) + MARGIN) with d the squared distance
of unit vectors (2 - 2 cos), and each anchor-positive pair takes a semi-hard negative (FaceNet:
farther than the positive but within the margin; the hardest one when there is none), plus
a pull of W towards the identity. Part of each person's templates is held back: the adapter is
kept only when, at the threshold in force, the held-back part names no more strangers and
recognises no fewer people than before, and its triplet loss falls. The gradient is written
by hand (a few lines for one linear map and a normalisation; no autograd library needed).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

MARGIN = 0.5
EPOCHS = 60
LEARNING_RATE = 0.05
IDENTITY_PULL = 1e-3
EVERYONE = -2  # `neg_of` of a negative for every person (a reviewed unknown face)
HOLD_BACK = 1 / 3  # of each person's templates (people with 3 or more)
FOLDER = "adapters"  # in the data folder: <model id>.npz and .json (one per pack)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def adapt(w: np.ndarray | None, x: np.ndarray) -> np.ndarray:
    """normalise(W x) per row (x unchanged when `w` is None)."""
    if w is None:
        return x
    return np.ascontiguousarray(_unit(x @ w.T), dtype=np.float32)


def _triplets(z: np.ndarray, labels: np.ndarray, neg_of: np.ndarray, rng,
              anchors: np.ndarray | None = None) -> list[tuple]:
    """(anchor, positive, negative row) with a semi-hard negative for every pair."""
    d = 2.0 - 2.0 * (z @ z.T)
    out = []
    for a in range(len(labels)):
        if labels[a] < 0 or (anchors is not None and not anchors[a]):
            continue  # a negative template is never an anchor
        pos = np.flatnonzero((labels == labels[a]) & (np.arange(len(labels)) != a))
        negs = np.flatnonzero((labels != labels[a]) | (neg_of == labels[a]))
        negs = negs[(labels[negs] >= 0) | (neg_of[negs] == labels[a])
                    | (neg_of[negs] == EVERYONE)]
        if not len(pos) or not len(negs):
            continue
        for p in rng.permutation(pos)[:4]:
            semi = negs[(d[a, negs] > d[a, p]) & (d[a, negs] < d[a, p] + MARGIN)]
            n = rng.choice(semi) if len(semi) else negs[np.argmin(d[a, negs])]
            out.append((a, p, int(n)))
    return out


def triplet_loss(w: np.ndarray | None, x: np.ndarray, labels: np.ndarray,
                 neg_of: np.ndarray, seed: int = 0, anchors: np.ndarray | None = None) -> float:
    """Mean triplet loss of the semi-hard triplets of `x` under `w` (anchors: rows allowed)."""
    z = adapt(w, x)
    t = _triplets(z, labels, neg_of, np.random.default_rng(seed), anchors)
    if not t:
        return 0.0
    a, p, n = (np.array(v) for v in zip(*t, strict=True))
    dap = ((z[a] - z[p]) ** 2).sum(1)
    dan = ((z[a] - z[n]) ** 2).sum(1)
    return float(np.maximum(0.0, dap - dan + MARGIN).mean())


def train(x: np.ndarray, labels: np.ndarray, neg_of: np.ndarray, seed: int = 0) -> np.ndarray:
    """W after EPOCHS of gradient descent on the triplet loss (labels -1: a negative of the
    person `neg_of`)."""
    rng = np.random.default_rng(seed)
    dim = x.shape[1]
    w = np.eye(dim)
    for _ in range(EPOCHS):
        y = x @ w.T
        norm = np.linalg.norm(y, axis=1, keepdims=True)
        z = y / norm
        t = _triplets(z, labels, neg_of, rng)
        if not t:
            break
        a, p, n = (np.array(v) for v in zip(*t, strict=True))
        active = (((z[a] - z[p]) ** 2).sum(1) - ((z[a] - z[n]) ** 2).sum(1) + MARGIN) > 0
        gz = np.zeros_like(z)
        for i, j, k in zip(a[active], p[active], n[active], strict=True):
            gz[i] += 2 * (z[k] - z[j])
            gz[j] += -2 * (z[i] - z[j])
            gz[k] += 2 * (z[i] - z[k])
        gz /= max(len(t), 1)
        gy = (gz - (gz * z).sum(1, keepdims=True) * z) / norm  # through the normalisation
        grad = gy.T @ x + IDENTITY_PULL * (w - np.eye(dim))
        w -= LEARNING_RATE * grad * len(x)
    return w.astype(np.float32)


@dataclass
class Figures:
    """Held-back figures at one threshold."""

    far: float  # impostor pairs at or above the threshold
    car: float  # genuine pairs at or above it
    loss: float
    genuine_pairs: int
    impostor_pairs: int


def figures(w: np.ndarray | None, x: np.ndarray, labels: np.ndarray, neg_of: np.ndarray,
            held: np.ndarray, threshold: float) -> Figures:
    """Held-back templates as probes against the training templates (the gallery)."""
    z = adapt(w, x)
    probe, gallery = held & (labels >= 0), ~held & (labels >= 0)
    s = z[probe] @ z[gallery].T
    same = labels[probe][:, None] == labels[gallery][None, :]
    gen, imp = s[same], s[~same]
    return Figures(float((imp >= threshold).mean()) if len(imp) else 0.0,
                   float((gen >= threshold).mean()) if len(gen) else 0.0,
                   triplet_loss(w, x, labels, neg_of, anchors=held), int(len(gen)),
                   int(len(imp)))


def split(labels: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Row masks (train, held back): a third of each person's templates (3 or more) is held
    back; negatives stay in training."""
    rng = np.random.default_rng(seed)
    held = np.zeros(len(labels), bool)
    for lab in np.unique(labels[labels >= 0]):
        rows = rng.permutation(np.flatnonzero(labels == lab))
        if len(rows) >= 3:
            held[rows[:max(1, int(len(rows) * HOLD_BACK))]] = True
    return ~held, held


@dataclass
class LearnReport:
    """What `learn` measured and decided."""

    applied: bool
    why: str
    threshold: float
    before: dict
    after: dict
    templates: int
    negatives: int


def learn(x: np.ndarray, labels: np.ndarray, neg_of: np.ndarray, threshold: float,
          seed: int = 0) -> tuple[np.ndarray | None, LearnReport]:
    """Train on part of the data, judge on the held-back part; W only when it helps."""
    train_rows, held = split(labels, seed)
    n_neg = int((labels < 0).sum())
    if held.sum() < 2 or len(np.unique(labels[held & (labels >= 0)])) < 2:
        return None, LearnReport(False, "too little to learn from: at least two people with "
                                 "three or more templates each are needed", threshold, {}, {},
                                 int((labels >= 0).sum()), n_neg)
    w = train(x[train_rows], labels[train_rows], neg_of[train_rows], seed)
    # held back: its templates as probes, the training templates as the gallery
    before = figures(None, x, labels, neg_of, held, threshold)
    after = figures(w, x, labels, neg_of, held, threshold)
    better = after.loss < before.loss and after.far <= before.far and after.car >= before.car
    why = ("held-back loss, false-accept and correct-accept rates all as good or better"
           if better else "it would make the held-back part worse: not applied")
    return (w if better else None), LearnReport(bool(better), why, threshold, asdict(before),
                                                asdict(after), int((labels >= 0).sum()), n_neg)


def paths(home: Path, model_id: str) -> tuple[Path, Path]:
    """Where the adapter of embeddings by `model_id` lives (weights, report)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", model_id)
    folder = Path(home) / FOLDER
    return folder / f"{safe}.npz", folder / f"{safe}.json"


def save(home: Path, model_id: str, w: np.ndarray, report: LearnReport) -> None:
    """Store the adapter for embeddings of `model_id` and its report."""
    import io

    from ..atomic_write import write_atomic

    weights, info = paths(home, model_id)
    weights.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez(buf, w=w, model_id=np.array(model_id))
    write_atomic(weights, buf.getvalue())
    write_atomic(info, json.dumps(asdict(report), indent=2))


def load(home: Path, model_id: str, dim: int) -> np.ndarray | None:
    """The stored adapter for this model, or None (none, unreadable, or another model's)."""
    weights, _ = paths(home, model_id)
    if not weights.exists():
        return None
    try:
        with np.load(weights) as data:
            w, mid = data["w"], str(data["model_id"])
    except (OSError, ValueError, KeyError):
        return None
    return w if mid == model_id and w.shape == (dim, dim) else None


def remove(home: Path, model_id: str) -> bool:
    """Delete the adapter of `model_id`; whether there was one."""
    weights, info = paths(home, model_id)
    found = weights.exists()
    for p in (weights, info):
        p.unlink(missing_ok=True)
    return found


def with_unknowns(data, store):
    """The gallery's learning data plus the kept unknown faces, as negatives for everyone
    (strangers to all enrolled people)."""
    x, labels, neg_of = data
    faces = store.faces(include_ignored=True)
    if not faces:
        return x, labels, neg_of
    u = np.stack([f.embedding for f in faces]).astype(np.float64)
    return (np.concatenate([x, u]), np.concatenate([labels, np.full(len(u), -1)]),
            np.concatenate([neg_of, np.full(len(u), EVERYONE)]))
