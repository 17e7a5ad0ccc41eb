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
    p.add_argument("--motion", default="door,fast",
                   help="face motions to run: door (peak half a face width per 100 ms), fast "
                   "(a whole face width); default door,fast")
    p.add_argument("--as-fast-as-possible", action="store_true",
                   help="read the video as fast as each loop takes frames instead of at 30 FPS "
                   "(throughput: labelled FPS and CPU per frame, like for like)")
    p.add_argument("--peer", help="also run a peer library the naive per-frame way "
                   "(face_recognition; needs pip install 'facelens[peer]')")
    p.add_argument("--style", action="store_true", help="benchmark the style panel instead")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    if args.style:
        from ..style.bench import run_style_bench

        run_style_bench(json=args.json, provider=args.provider)
        return 0
    from ..engine.recognizer import FaceEngine
    from .bench import MOTIONS, PEERS, format_table, load_peer, run_bench

    try:
        counts = tuple(int(c) for c in args.faces.split(",") if c.strip())
    except ValueError as exc:
        raise FaceLensError(f"--faces takes numbers like 1,3,6, not {args.faces!r}") from exc
    if not counts or min(counts) < 1:
        raise FaceLensError("--faces needs at least one count of 1 or more")
    motions = tuple(m.strip() for m in args.motion.split(",") if m.strip())
    if not motions or any(m not in MOTIONS for m in motions):
        raise FaceLensError(f"--motion {args.motion}: unknown motion; use a comma list of "
                            f"{', '.join(MOTIONS)}")

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    peer, skipped = None, None
    if args.peer:
        try:
            peer = load_peer(args.peer)
        except FaceLensError as exc:
            if args.peer not in PEERS:  # a typo is an error; a missing package a skip
                raise
            skipped = str(exc)
            log(f"peer skipped: {skipped}")
    engine = FaceEngine.load(args.pack, args.provider)
    result = run_bench(engine, counts, args.seconds, args.photos, log=log, motions=motions,
                       paced=not args.as_fast_as_possible, peer=peer)
    if skipped:
        result["peer_skipped"] = skipped
    if args.json:
        print(jsonlib.dumps(result), flush=True)
    else:
        print(format_table(result), flush=True)
    return 0
