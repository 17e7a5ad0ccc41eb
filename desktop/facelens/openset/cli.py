"""Open-set commands: impostor-tail, correct, learn."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..cli import emit
from ..errors import FaceLensError
from ..thresholds import far_arg


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


def cmd_correct(args: argparse.Namespace) -> int:
    """"This is not NAME" (a negative template) or "this is NAME" (enrol after the quality
    check) for the largest face of IMAGE."""
    from ..engine_cli import Context, _why
    from ..errors import ImageError
    from ..images import encode_jpeg

    ctx = Context(args)
    name = (args.not_ or args.is_).strip()
    try:
        faces = ctx.faces(args.image)
    except ImageError as exc:
        raise FaceLensError(f"{args.image}: {_why(exc, args.image)}") from None
    if not faces:
        raise FaceLensError(f"{args.image}: no face found; give a photo with the face to "
                            "correct")
    if len(faces) > 1 and not args.largest:
        raise FaceLensError(f"{args.image}: {len(faces)} faces found; crop to one face, or "
                            "give --largest to correct the largest")
    face = faces[0]
    if args.not_:
        before = ctx.gallery.identify(face.embedding[None], ctx.threshold)[0]
        ctx.gallery.add_negative(name, face.embedding, source=str(Path(args.image).resolve()))
        after = ctx.gallery.identify(face.embedding[None], ctx.threshold)[0]
        obj = {"image": args.image, "not": name, "negatives": ctx.gallery.count_negatives(name),
               "named_before": before.name, "named_now": after.name}
        emit(args, obj, f"{args.image}: stored as not {name} ({obj['negatives']} negative(s)); "
                        f"now {after.name or 'not recognised'}")
        return 0
    quality = ctx.engine.quality(None, face.face, face.crop)
    if not quality.ok:
        raise FaceLensError(f"{args.image}: face {quality.reason} (size {quality.size:.0f}px, "
                            f"sharpness {quality.sharpness:.0f}); not enrolled, use a sharper "
                            "or larger photo")
    thumb = (encode_jpeg(face.crop, 85) or b"") if ctx.settings.keep_thumbnails else None
    added = ctx.gallery.enrol(name, face.embedding[None], [thumb],
                              [str(Path(args.image).resolve())], crops=[face.crop])
    emit(args, {"image": args.image, "is": name, "added": added},
         f"{args.image}: added to {name}")
    return 0


def cmd_learn(args: argparse.Namespace) -> int:
    """Train the linear adapter on the gallery's templates and corrections; keep it only when
    the held-back part gets no worse; or remove it."""
    from ..engine_cli import Context
    from . import adapter

    ctx = Context(args)
    if args.remove:
        found = adapter.remove(ctx.home, ctx.engine.model_id)
        ctx.gallery.set_adapter(None)
        emit(args, {"removed": found, "model_id": ctx.engine.model_id},
             "adapter removed" if found else "no adapter to remove")
        return 0
    ctx.gallery.set_adapter(None)  # learn on the embeddings as the model makes them
    x, labels, neg_of = ctx.gallery.learning_data()
    w, report = adapter.learn(x, labels, neg_of, ctx.threshold)
    if w is not None and not args.dry_run:
        adapter.save(ctx.home, ctx.engine.model_id, w, report)
    obj = {"model_id": ctx.engine.model_id, **vars(report),
           "applied": report.applied and not args.dry_run}
    b, a = report.before, report.after
    lines = [f"{report.templates} templates, {report.negatives} 'not X' negatives; "
             f"threshold {report.threshold:.3f}"]
    if b:
        lines += [f"held back before: false-accept {b['far']:.2%}, correct-accept "
                  f"{b['car']:.2%}, triplet loss {b['loss']:.4f}",
                  f"held back after:  false-accept {a['far']:.2%}, correct-accept "
                  f"{a['car']:.2%}, triplet loss {a['loss']:.4f}"]
    lines.append(("applied: " if obj["applied"] else "not applied: ") + report.why)
    emit(args, obj, "\n".join(lines))
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
    text = "correct a recognition: this face is not NAME, or is NAME"
    p = sub.add_parser("correct", parents=[common], help=text, description=text)
    p.set_defaults(func=cmd_correct)
    p.add_argument("image", metavar="IMAGE")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--not", dest="not_", metavar="NAME",
                       help="the face is not NAME: it will not be named NAME again")
    which.add_argument("--is", dest="is_", metavar="NAME",
                       help="the face is NAME: add it to NAME's templates (quality checked)")
    p.add_argument("--largest", action="store_true", help="correct the largest of several faces")
    p.add_argument("--threshold", type=float, help="similarity needed for a match (shown)")
    p.add_argument("--far", type=far_arg, metavar="RATE", help="false-accept rate (shown)")
    text = "learn a linear adapter from the gallery and corrections (triplet loss)"
    p = sub.add_parser("learn", parents=[common], help=text, description=text)
    p.set_defaults(func=cmd_learn)
    p.add_argument("--remove", action="store_true", help="remove the learned adapter")
    p.add_argument("--dry-run", action="store_true", help="measure only; keep nothing")
    p.add_argument("--threshold", type=float, help="threshold to judge at (default: in force)")
    p.add_argument("--far", type=far_arg, metavar="RATE", help="false-accept rate to judge at")
