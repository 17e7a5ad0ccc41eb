"""Open-set commands: impostor-tail, correct, learn, unknown, site-calibrate."""

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
    from .adapter import with_unknowns

    ctx = Context(args)
    if args.remove:
        found = adapter.remove(ctx.home, ctx.engine.model_id)
        ctx.gallery.set_adapter(None)
        emit(args, {"removed": found, "model_id": ctx.engine.model_id},
             "adapter removed" if found else "no adapter to remove")
        return 0
    from ..gallery.central_limits import LEARNING, refuse_on_central

    refuse_on_central(ctx.gallery, LEARNING)  # before any training, nothing saved
    ctx.gallery.set_adapter(None)  # learn on the embeddings as the model makes them
    x, labels, neg_of = with_unknowns(ctx.gallery.learning_data(), _unknown_store(ctx))
    w, report = adapter.learn(x, labels, neg_of, ctx.threshold)
    if w is not None and not args.dry_run:
        adapter.save(ctx.home, ctx.engine.model_id, w, report)
    obj = {"model_id": ctx.engine.model_id, **vars(report),
           "applied": report.applied and not args.dry_run}
    b, a = report.before, report.after
    lines = [f"{report.templates} templates, {report.negatives} negatives ('not X' and "
             "unknown faces); "
             f"threshold {report.threshold:.3f}"]
    if b:
        lines += [f"held back before: false-accept {b['far']:.2%}, correct-accept "
                  f"{b['car']:.2%}, triplet loss {b['loss']:.4f}",
                  f"held back after:  false-accept {a['far']:.2%}, correct-accept "
                  f"{a['car']:.2%}, triplet loss {a['loss']:.4f}"]
    if args.dry_run and report.applied:
        lines.append("dry run, nothing kept: it would be applied (" + report.why + ")")
    else:
        lines.append(("applied: " if obj["applied"] else "not applied: ") + report.why)
    emit(args, obj, "\n".join(lines))
    return 0


def _unknown_store(ctx):
    from .unknowns import UnknownStore

    return UnknownStore.for_home(ctx.home, ctx.gallery, ctx.settings.unknown_retention_days)


def cmd_unknown(args: argparse.Namespace) -> int:
    """Review the faces kept because they were never recognised."""
    from ..engine_cli import Context

    ctx = Context(args)
    store = _unknown_store(ctx)
    if args.action == "collect":
        return _collect(args, ctx, store)
    cluster = None
    if args.cluster_or_video is not None:
        try:
            cluster = int(args.cluster_or_video)
        except ValueError:
            raise FaceLensError(f"unknown {args.action}: {args.cluster_or_video!r} is not a "
                                "cluster number; see `facelens unknown list`") from None
    elif args.action in ("name", "ignore"):
        raise FaceLensError(f"unknown {args.action}: give a cluster number; see "
                            "`facelens unknown list`")
    clusters = store.clusters(ctx.threshold)
    if args.action == "list":
        if not clusters and not args.json:
            print("no unknown faces kept (turn on unknown_review in settings.json, or "
                  "`facelens unknown collect VIDEO`)")
        for c in clusters:
            emit(args, {"cluster": c.number, "faces": len(c.ids), "ids": c.ids,
                        "best_score": round(c.best.score, 1)},
                 f"cluster {c.number}: {len(c.ids)} face(s), ids {c.ids}")
        return 0
    if args.action == "forget" and cluster is None:
        n = store.forget()
        emit(args, {"forgotten": n}, f"forgot {n} unknown face(s)")
        return 0
    chosen = next((c for c in clusters if c.number == cluster), None)
    if chosen is None:
        raise FaceLensError(f"cluster {cluster}: no such cluster (there are "
                            f"{len(clusters)}); see `facelens unknown list`")
    if args.action == "name":
        if not args.name:
            raise FaceLensError("unknown name: give the person's name, e.g. "
                                "`facelens unknown name 1 \"Ada Lovelace\"`")
        import cv2
        import numpy as np

        best = chosen.faces[:3]  # quality-gated crops, best first
        crops = [cv2.imdecode(np.frombuffer(f.crop_png, np.uint8), cv2.IMREAD_COLOR)
                 for f in best if f.crop_png]
        added = ctx.gallery.enrol(args.name, np.stack([f.embedding for f in best]),
                                  sources=["unknown review"] * len(best),
                                  crops=crops if len(crops) == len(best) else None)
        store.forget(chosen.ids)
        emit(args, {"cluster": chosen.number, "name": args.name.strip(), "added": added},
             f"cluster {chosen.number}: {added} face(s) enrolled as {args.name.strip()}")
    elif args.action == "ignore":
        store.ignore(chosen.ids)
        emit(args, {"cluster": chosen.number, "ignored": len(chosen.ids)},
             f"cluster {chosen.number}: ignored")
    else:
        n = store.forget(chosen.ids)
        emit(args, {"cluster": chosen.number, "forgotten": n},
             f"cluster {chosen.number}: {n} face(s) deleted")
    return 0


def _collect(args: argparse.Namespace, ctx, store) -> int:
    """Run live recognition over a video file and keep its unknown faces."""
    import time

    import cv2

    from ..live.recognise import LiveConfig, Recogniser
    from ..live.sources import Frame
    from .unknowns import UnknownCollector

    if not args.cluster_or_video or not Path(args.cluster_or_video).is_file():
        raise FaceLensError(f"unknown collect: {args.cluster_or_video!r} is not a video file; "
                            "give a recorded video, e.g. `facelens unknown collect door.avi`")
    cap = cv2.VideoCapture(args.cluster_or_video)
    if not cap.isOpened():
        raise FaceLensError(f"{args.cluster_or_video}: cannot be read as a video")
    rec = Recogniser(ctx.engine, lambda: ctx.gallery, LiveConfig(threshold=ctx.threshold,
                     detect_every=1))
    images = ctx.settings.unknown_review or not ctx.settings.site_calibration
    rec.unknown_sink = UnknownCollector(store, ctx.threshold, keep_crops=images)
    frames = 0
    while True:
        ok, image = cap.read()
        if not ok:
            break
        rec.process(Frame(frames, time.monotonic(), image))
        frames += 1
    cap.release()
    rec.unknown_sink.flush()
    total = len(store.faces())
    emit(args, {"video": args.cluster_or_video, "frames": frames, "kept": total},
         f"{args.cluster_or_video}: {frames} frames; {total} unknown face(s) kept")
    return 0


def cmd_site_calibrate(args: argparse.Namespace) -> int:
    """Add the site's unknown faces to the pack's impostor tail (or remove that again)."""
    import numpy as np

    from ..engine_cli import Context
    from .operating_point import load_tail
    from .site import merge, site_path, site_scores, store_site_tail
    from .unknowns import cluster_embeddings

    ctx = Context(args)
    pack = ctx.engine.pack_name
    if args.remove:
        path = site_path(ctx.home, pack)
        found = path.exists()
        path.unlink(missing_ok=True)
        emit(args, {"pack": pack, "removed": found},
             "site calibration removed" if found else "no site calibration to remove")
        return 0
    tail = load_tail(pack)
    if tail is None:
        raise FaceLensError(f"pack {pack}: no measured impostor tail to refine; run "
                            f"`facelens impostor-tail FOLDER --pack {pack} --store` first")
    faces = _unknown_store(ctx).faces(include_ignored=True)
    if len(faces) < 2:
        raise FaceLensError("site calibration: fewer than 2 unknown faces kept; turn on "
                            "site_calibration in settings.json and let the camera run, or "
                            "`facelens unknown collect VIDEO`")
    unknown = np.stack([f.embedding for f in faces])
    templates, owner, _ = ctx.gallery.learning_data()
    templates = templates[owner >= 0].astype(np.float32)
    scores = site_scores(unknown, cluster_embeddings(unknown, ctx.threshold), templates)
    merged = merge(tail, scores, f"site: {len(faces)} unknown faces, {len(scores)} pairs")
    path = store_site_tail(ctx.home, pack, merged)
    before = ctx.threshold
    from ..thresholds import resolve_threshold

    after = resolve_threshold(ctx.engine.default_threshold, ctx.settings, pack=pack,
                              gallery_size=ctx.gallery.count_templates(), home=ctx.home)
    obj = {"pack": pack, "site_pairs": int(len(scores)), "pairs": merged.pairs,
           "threshold_before": round(before, 4), "threshold_after": round(after, 4),
           "stored": str(path)}
    emit(args, obj, f"{len(faces)} unknown faces, {len(scores)} site impostor pairs; "
                    f"threshold {before:.3f} -> {after:.3f} ({path})")
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
    text = "review faces never recognised: list, name, ignore, forget (collect VIDEO)"
    p = sub.add_parser("unknown", parents=[common], help=text, description=text)
    p.set_defaults(func=cmd_unknown)
    p.add_argument("action", choices=["list", "name", "ignore", "forget", "collect"])
    p.add_argument("cluster_or_video", nargs="?", metavar="CLUSTER|VIDEO",
                   help="cluster number (name, ignore, forget), or a video file (collect)")
    p.add_argument("name", nargs="?", help="the person's name (name)")
    p.add_argument("--threshold", type=float, help="similarity that groups two faces")
    text = "refine the impostor tail with the site's unknown faces (embeddings only)"
    p = sub.add_parser("site-calibrate", parents=[common], help=text, description=text)
    p.set_defaults(func=cmd_site_calibrate)
    p.add_argument("--remove", action="store_true", help="back to the pack's own tail")
