"""``facelens bench``: measure the live pipeline (``--style``: the style panel instead)."""

from __future__ import annotations

import argparse
import json as jsonlib
import sys
from pathlib import Path

from ..errors import FaceLensError


def register(sub) -> None:
    p = sub.add_parser("bench", help="measure the live pipeline on a recorded 640x480 video",
                       description=__doc__)
    p.add_argument("--faces", default="1,3,6", help="face counts to run (default 1,3,6)")
    p.add_argument("--seconds", type=float, default=10.0, help="video length per run")
    p.add_argument("--photos", type=Path, help="face photos (a folder, or one subfolder per "
                   "person) instead of insightface's sample group photo")
    p.add_argument("--provider", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--pack", default="lite")
    p.add_argument("--style", action="store_true", help="benchmark the style panel instead")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    if args.style:
        from ..style.bench import run_style_bench

        run_style_bench(json=args.json, provider=args.provider)
        return 0
    from ..engine.recognizer import FaceEngine
    from .bench import format_table, run_bench

    try:
        counts = tuple(int(c) for c in args.faces.split(",") if c.strip())
    except ValueError as exc:
        raise FaceLensError(f"--faces takes numbers like 1,3,6, not {args.faces!r}") from exc
    if not counts or min(counts) < 1:
        raise FaceLensError("--faces needs at least one count of 1 or more")
    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    engine = FaceEngine.load(args.pack, args.provider)
    result = run_bench(engine, counts, args.seconds, args.photos, log=log)
    if args.json:
        print(jsonlib.dumps(result), flush=True)
    else:
        print(format_table(result), flush=True)
    return 0
