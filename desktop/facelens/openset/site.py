"""Site calibration (off by default; no Qt): the faces a site's camera sees and does not know
are an impostor cohort of the site itself.

With ``site_calibration`` on, the live view keeps the embeddings (not images) of faces that
stayed unrecognised (in ``unknown.db``, without a crop unless the unknown-face review is on).
`facelens site-calibrate` scores every kept face against every enrolled template and against
the kept faces of other clusters (other people), adds those pairs to the pack's impostor tail
and stores the result in ``site_calibration/<pack>.json`` of the data folder; the threshold
resolver uses it in place of the pack's tail for that data folder. `--remove` goes back.
Caveat, stated: an enrolled person the camera missed would count as a stranger here, which
only raises the threshold.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .operating_point import ImpostorTail

FOLDER = "site_calibration"


def site_path(home: Path, pack: str) -> Path:
    return Path(home) / FOLDER / f"{pack}.json"


def site_scores(unknown: np.ndarray, clusters: list[list[int]], templates: np.ndarray
                ) -> np.ndarray:
    """Impostor similarities: each unknown face against each template, and against the faces
    of every other cluster."""
    parts = [(unknown @ templates.T).ravel()] if len(templates) else []
    label = np.empty(len(unknown), int)
    for n, rows in enumerate(clusters):
        label[rows] = n
    iu = np.triu_indices(len(unknown), 1)
    other = (label[:, None] != label[None, :])[iu]
    parts.append((unknown @ unknown.T)[iu][other])
    return np.concatenate(parts) if parts else np.zeros(0)


def merge(pack_tail: ImpostorTail, scores: np.ndarray, described: str) -> ImpostorTail:
    """The pack's tail with the site's impostor pairs added."""
    top = np.sort(np.concatenate([np.asarray(pack_tail.top), scores]))[::-1][:len(pack_tail.top)
                                                                             + 200]
    return ImpostorTail(pack_tail.pairs + int(len(scores)), tuple(float(v) for v in top),
                        pack_tail.genuine, f"{pack_tail.set}; {described}")


def store_site_tail(home: Path, pack: str, tail: ImpostorTail) -> Path:
    from ..atomic_write import write_atomic

    path = site_path(home, pack)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, json.dumps(tail.as_json(), indent=1))
    return path


def load_site_tail(home: Path | None, pack: str) -> ImpostorTail | None:
    """The data folder's site tail for `pack`, or None (none, or unreadable)."""
    if home is None:
        return None
    path = site_path(home, pack)
    try:
        return ImpostorTail.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
