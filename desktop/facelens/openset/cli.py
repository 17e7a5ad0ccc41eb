"""Open-set commands: impostor-tail (more follow in this module)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..cli import emit
from ..errors import FaceLensError


def cmd_impostor_tail(args: argparse.Namespace) -> int:
    from ..engine_cli import _engine_for
    from .cohort import measure_cohort, store_tail
    from .operating_point import ImpostorTail

    root = Path(args.folder)
    if not (root / "people").is_dir():
        raise FaceLensError(f"{root}: no people/ folder; give a folder like faces-dev with "
                            "people/<name>/ photos (and optionally groups/ photos)")
    engine = _engine_for(args)
    if args.store:
        block = store_tail(engine, root)
    else:
        c = measure_cohort(engine, root)
        block = ImpostorTail.from_scores(c.impostor, c.genuine, c.described).as_json()
    tail = ImpostorTail.from_json(block)
    summary = {"pack": engine.pack_name, "set": tail.set, "impostor_pairs": tail.pairs,
               "genuine_pairs": len(tail.genuine), "highest_impostor": tail.top[0],
               "stored": bool(args.store)}
    emit(args, summary, "\n".join(f"{k:18s} {v}" for k, v in summary.items()))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="one JSON object per line")
    common.add_argument("--home", default=argparse.SUPPRESS, help="data folder")
    text = "measure a pack's impostor scores (every different-person pair) for --far"
    p = sub.add_parser("impostor-tail", parents=[common], help=text, description=text)
    p.set_defaults(func=cmd_impostor_tail)
    p.add_argument("folder", help="a folder like faces-dev: people/<name>/ and groups/")
    p.add_argument("--pack", help="model pack to measure (default: the settings' pack)")
    p.add_argument("--store", action="store_true", help="store the tail in the pack's recipe")
