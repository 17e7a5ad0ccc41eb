"""Run as a script: rounds of processes that create the same new gallery at the same moment.

    python tests/gallery_race.py FOLDER PROCESSES ROUNDS MODEL_ID DIM

Each round, PROCESSES children (forked from this small, fresh process: no ONNX Runtime or
OpenMP threads to copy) wait at a barrier, then open FOLDER/g<round>/gallery.db and enrol one
person each. Prints one JSON object: {"openings": n, "failures": [...], "names": {...}}.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import sys
import zlib
from pathlib import Path

import numpy as np

from facelens.gallery import Gallery


def create_and_enrol(path: str, model: str, dim: int, name: str, barrier, errors) -> None:
    """Once every process has reached `barrier`, open (creating) the gallery at `path` and
    enrol `name`; any failure goes to the `errors` queue, never swallowed."""
    try:
        barrier.wait(60)
        rng = np.random.default_rng(zlib.crc32(name.encode()))
        v = rng.standard_normal((1, dim)).astype(np.float32)
        with Gallery.open(Path(path), model, dim) as g:
            g.enrol(name, v / np.linalg.norm(v))
    except BaseException as exc:
        errors.put(f"{name}: {type(exc).__name__}: {exc}")


def main(folder: str, processes: int, rounds: int, model: str, dim: int) -> dict:
    ctx = mp.get_context("fork")
    errors = ctx.Queue()
    names = {}
    for i in range(rounds):
        path = Path(folder) / f"g{i}" / "gallery.db"
        path.parent.mkdir(parents=True)
        barrier = ctx.Barrier(processes)
        procs = [ctx.Process(target=create_and_enrol,
                             args=(str(path), model, dim, f"p{j}", barrier, errors))
                 for j in range(processes)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(120)
        with Gallery.open(path, model, dim) as g:
            names[i] = sorted(p.name for p in g.people())
    failures = []
    while not errors.empty():
        failures.append(errors.get())
    return {"openings": processes * rounds, "failures": failures, "names": names}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4],
                          int(sys.argv[5]))))
