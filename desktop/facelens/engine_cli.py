"""Recognition commands: enrol, identify, verify, people, remove, rename.

JSON contract (``--json``): one object per input image per line; exit code 0 when every input
was processed, 1 when any failed (its object says why), 2 on usage errors.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .cli import emit
from .errors import GalleryError, ImageError
from .gallery.names import clean_name
from .paths import data_home
from .settings import Settings
from .thresholds import far_arg, resolve_threshold

# NumPy, ONNX Runtime, OpenCV and FAISS load inside the commands that use them, so that
# `facelens people` and `--help` start in a fraction of a second (tests/test_startup.py).
if TYPE_CHECKING:
    from .engine.recognizer import FaceEngine, FaceResult
    from .gallery import Gallery


class Context:
    """What a command needs: settings, the engine (loaded once) and the gallery."""

    def __init__(self, args: argparse.Namespace):
        from .gallery import open_for_home

        self.home = data_home(getattr(args, "home", None))
        self.settings = Settings.load(self.home)
        self.engine = _load_engine(self.settings)
        self.gallery = open_for_home(self.home, self.engine.model_id, self.engine.dim)
        for d in self.gallery.damaged:  # left out of the search: say so on every command
            print(f"facelens: warning: {d.message()}", file=sys.stderr)
        self.threshold = resolve_threshold(self.engine.default_threshold, self.settings,
                                           override=getattr(args, "threshold", None),
                                           far=getattr(args, "far", None),
                                           pack=self.engine.pack_name,
                                           gallery_size=self.gallery.count_templates(),
                                           home=self.home)

    def faces(self, image: str) -> list[FaceResult]:
        from .images import load_image

        return self.engine.analyze_photo(load_image(image), min_face=20)

    def faces_or_error(self, image: str) -> tuple[list[FaceResult], str | None]:
        """The faces of one file, or ([], why not): one bad file never stops the others."""
        import numpy as np

        try:
            faces = self.faces(image)
        except ImageError as exc:
            return [], str(exc)
        except MemoryError:
            return [], f"{image}: not enough memory to process this image; try a smaller one"
        except Exception as exc:  # a decoder or model failure on odd input: report, go on
            return [], (f"{image}: could not be processed ({type(exc).__name__}: "
                        f"{_last_line(exc)}); the other files are not affected")
        bad = [i for i, f in enumerate(faces) if not np.isfinite(f.embedding).all()
               or float(np.linalg.norm(f.embedding)) < 1e-6]
        if bad:
            return [], f"{image}: the face model gave no usable vector for face {bad[0] + 1}"
        return faces, None


def _last_line(exc: Exception) -> str:
    lines = [ln.strip() for ln in str(exc).strip().splitlines() if ln.strip()]
    return lines[-1] if lines else "no detail"


def _progress(msg: str, fraction: float) -> None:
    print(f"[{fraction:4.0%}] {msg}", file=sys.stderr, flush=True)


def _load_engine(settings: Settings) -> FaceEngine:
    """The settings' model pack on their provider (building it on first use: progress on
    stderr)."""
    from .engine.recognizer import FaceEngine

    return FaceEngine.load(settings.model_pack, settings.provider, progress=_progress)


def _face_json(r: FaceResult, name: str | None, similarity: float | None) -> dict:
    return {"box": [round(float(v), 1) for v in r.face.box],
            "landmarks": [[round(float(x), 1), round(float(y), 1)] for x, y in r.face.landmarks],
            "det_score": round(r.face.score, 4), "name": name,
            "similarity": None if similarity is None else round(float(similarity), 4)}


def _why(exc: Exception, image: str) -> str:
    """The reason an image failed, without the path in front (the caller names the file)."""
    text = str(exc)
    for prefix in (f"{image}: ", f"{Path(image)}: "):
        text = text.removeprefix(prefix)
    return text


# -- commands ---------------------------------------------------------------------------------
def cmd_enrol(args: argparse.Namespace) -> int:
    import numpy as np

    from .images import encode_jpeg

    name = clean_name(args.name)  # a bad name fails before any photo is processed
    ctx = Context(args)
    crops: list[np.ndarray] = []
    embs, thumbs, sources, rejected = [], [], [], []
    results = []  # one per file, in order: {"image", "added", "error"}
    for image in args.images:
        reason = None
        faces, error = ctx.faces_or_error(image)
        if error is not None:
            reason = _why(error, image)
        elif not faces:
            reason = "no face found"
        elif len(faces) > 1 and not args.largest:
            reason = (f"{len(faces)} faces found: use a photo of one person, or --largest to "
                      "take the largest face")
        else:
            best = faces[0]
            quality = ctx.engine.quality(None, best.face, best.crop)
            if not quality.ok:
                reason = (f"face {quality.reason} (size {quality.size:.0f}px, sharpness "
                          f"{quality.sharpness:.0f})")
        results.append({"image": image, "added": False, "error": reason})
        if reason is not None:
            rejected.append({"image": image, "reason": reason})
            continue
        embs.append(best.embedding)
        thumbs.append((encode_jpeg(best.crop, 85) or b"") if ctx.settings.keep_thumbnails else None)
        sources.append(str(Path(image).resolve()))
        crops.append(best.crop)  # kept so that another model pack can re-embed this face
    added = ctx.gallery.enrol(name, np.stack(embs), thumbs, sources,
                              crops=crops) if embs else 0
    for r in results:
        r["added"] = r["error"] is None
    error = None if added else (f"nothing enrolled for {name}: none of the {len(results)} "
                                "photo(s) had a usable face (see each file's error)")
    lines = [f"{name}: {added} photo(s) enrolled" if added else str(error)] + [
        f"  rejected {r['image']}: {r['reason']}" for r in rejected]
    emit(args, {"name": name, "added": added, "rejected": rejected, "images": results,
                "error": error}, "\n".join(lines))
    return 0 if not rejected else 1


def _require_people(ctx: Context) -> None:
    if ctx.gallery.count_templates() == 0:
        raise GalleryError("the gallery is empty: enrol someone first "
                           "(facelens enrol NAME PHOTO)")


def cmd_identify(args: argparse.Namespace) -> int:
    import numpy as np

    ctx = Context(args)
    _require_people(ctx)
    failed = False
    for image in args.images:
        faces, error = ctx.faces_or_error(image)
        if error is not None:
            failed = True
            emit(args, {"image": image, "faces": [], "error": _why(error, image)},
                 f"{image}: {_why(error, image)}")
            continue
        matches = ctx.gallery.identify(np.stack([f.embedding for f in faces]),
                                       ctx.threshold) if faces else []
        out = [_face_json(f, m.name, m.similarity) for f, m in zip(faces, matches, strict=True)]
        text = f"{image}: " + (", ".join(
            f"{m.name or 'not recognised'} ({m.similarity:.2f})" for m in matches)
            or "no face found")
        emit(args, {"image": image, "faces": out, "error": None}, text)
    return 1 if failed else 0


def cmd_verify(args: argparse.Namespace) -> int:
    ctx = Context(args)
    name = args.name.strip()
    if name not in {p.name for p in ctx.gallery.people()}:
        raise GalleryError(f"no person named {name!r} in the gallery "
                           "(see `facelens people`)")
    failed = False
    for image in args.images:
        obj = {"image": image, "name": name, "match": False, "similarity": None,
               "threshold": ctx.threshold, "error": None}
        faces, error = ctx.faces_or_error(image)
        if error is None and not faces:
            error = "no face found"
        if error is not None:
            failed = True
            obj["error"] = _why(error, image)
            emit(args, obj, f"{image}: {obj['error']}")
            continue
        m = ctx.gallery.verify(name, faces[0].embedding, ctx.threshold)
        obj.update(match=m.name is not None, similarity=round(float(m.similarity), 4))
        verdict = "MATCH" if obj["match"] else "NO MATCH"
        emit(args, obj, f"{image}: {verdict} {name} (similarity {m.similarity:.3f}, "
                        f"threshold {ctx.threshold:.3f})")
    return 1 if failed else 0


def _open_gallery(args: argparse.Namespace) -> Gallery:
    """The gallery without loading models (remove, rename)."""
    from .gallery import open_configured

    return open_configured(data_home(getattr(args, "home", None)))


def cmd_people(args: argparse.Namespace) -> int:
    from .gallery.backend import gallery_location, is_url
    from .gallery.db import DEFAULT_FILENAME
    from .gallery.listing import people_of_home  # SQLite only: no FAISS index is built

    home = data_home(getattr(args, "home", None))
    if is_url(gallery_location(home / DEFAULT_FILENAME, Settings.load(home).gallery_url)):
        people = _open_gallery(args).people()  # a central gallery: through its replica
    else:
        people = people_of_home(home)
    if not people and not args.json:
        print("no one enrolled yet")
    for p in people:
        emit(args, {"name": p.name, "templates": p.templates, "created": p.created,
                    "updated": p.updated}, f"{p.name}\t{p.templates} template(s)\t{p.updated}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    name, templates = _open_gallery(args).remove_person(args.name)
    emit(args, {"removed": name, "templates": templates},
         f"removed {name} ({templates} template(s))")
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    old = _open_gallery(args).rename(args.old, args.new)
    emit(args, {"renamed": old, "to": args.new.strip()}, f"renamed {old} to {args.new.strip()}")
    return 0


def _engine_for(args: argparse.Namespace) -> FaceEngine:
    """The engine of ``--pack`` when given, else of the settings' pack."""
    settings = Settings.load(data_home(getattr(args, "home", None)))
    if getattr(args, "pack", None):
        from .modelpack.pack import source_manifest

        source_manifest(args.pack)  # an unknown name is refused with the known ones
        settings = dataclasses.replace(settings, model_pack=args.pack)
    return _load_engine(settings)


def cmd_calibrate(args: argparse.Namespace) -> int:
    from .evaluation import evaluate, labelled_photos

    if getattr(args, "pack", None):
        from .modelpack.pack import source_manifest

        source_manifest(args.pack)  # an unknown pack name first: it needs no folder
    labelled_photos(Path(args.folder))  # a wrong folder is reported before models load
    engine = _engine_for(args)
    if args.store:
        from .modelpack.calibration import store_calibration

        block = store_calibration(engine, Path(args.folder), args.folder)
        emit(args, {"pack": engine.pack_name, **block},
             "\n".join(f"{k:24s} {v}" for k, v in block.items()))
        return 0
    report = evaluate(engine, Path(args.folder), args.threshold).as_dict()
    text = "\n".join(f"{k:24s} {v}" for k, v in report.items())
    emit(args, {"pack": engine.pack_name, **report}, text)
    return 0


def cmd_bench_engine(args: argparse.Namespace) -> int:
    from .engine.bench import run_bench

    engine = _engine_for(args)
    figures = {"pack": engine.pack_name, **run_bench(engine, repeat=args.repeat)}
    if args.store:
        from .modelpack.calibration import store_cost

        figures["stored"] = store_cost(engine.pack_name, figures)
    emit(args, figures, "\n".join(f"{k:22s} {v}" for k, v in figures.items()))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="one JSON object per line")
    common.add_argument("--home", default=argparse.SUPPRESS, help="data folder")

    def add(name: str, func, text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=text, description=text)
        p.set_defaults(func=func)
        return p

    p = add("enrol", cmd_enrol, "enrol a person from one or more photos (one is enough)")
    p.add_argument("name")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--largest", action="store_true",
                   help="take the largest face of photos with several faces")
    p = add("identify", cmd_identify, "name every face in photos, or 'not recognised'")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--threshold", type=float, help="similarity needed for a match")
    p.add_argument("--far", type=far_arg, metavar="RATE",
                   help="share of identifications that may name a stranger (0.001 or 1/1000): "
                        "the threshold follows from the pack's impostor tail and gallery size")
    p = add("verify", cmd_verify, "check 1:1 whether the largest face is the claimed person")
    p.add_argument("name")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--threshold", type=float, help="similarity needed for a match")
    p.add_argument("--far", type=far_arg, metavar="RATE",
                   help="share of identifications that may name a stranger (0.001 or 1/1000): "
                        "the threshold follows from the pack's impostor tail and gallery size")
    add("people", cmd_people, "list enrolled people")
    p = add("remove", cmd_remove, "remove a person and all their templates")
    p.add_argument("name")
    p = add("rename", cmd_rename, "rename a person")
    p.add_argument("old")
    p.add_argument("new")
    p = add("calibrate", cmd_calibrate, "accuracy on a folder with one sub-folder per person")
    p.add_argument("folder")
    p.add_argument("--threshold", type=float, help="threshold to report at (default: pack's)")
    p.add_argument("--pack", help="model pack to measure (default: the settings' pack)")
    p.add_argument("--store", action="store_true",
                   help="choose the pack's threshold on this folder and store it in its recipe")
    p = add("bench-engine", cmd_bench_engine, "time detection, embedding and gallery search")
    p.add_argument("--repeat", type=int, default=30, help="timed runs per figure")
    p.add_argument("--pack", help="model pack to measure (default: the settings' pack)")
    p.add_argument("--store", action="store_true",
                   help="store the cost per face in the pack's recipe (Settings shows it)")

