"""``facelens stylize`` (images and videos) and ``facelens bench-style``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..cli import emit
from ..images import load_image
from ..paths import data_home
from ..runtime import PROVIDER_CHOICES
from .errors import StyleError
from .models import SessionCache
from .record import save_png
from .render import StyleRenderer
from .styles import StyleLibrary, blend
from .video import is_video, stylize_video


def parse_size(text: str) -> tuple[int, int] | None:
    """``"640x480"`` -> (640, 480); ``"full"`` -> None (process at the input's own size)."""
    if text.lower() == "full":
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise StyleError(f"size must look like 640x480 or be 'full', not {text!r}") from None
    if w < 16 or h < 16:
        raise StyleError("processing size must be at least 16x16")
    return w, h


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``stylize`` and ``bench-style``."""
    p = sub.add_parser("stylize", help="restyle an image or a video with a neural style",
                       description="Style INPUT (image or video) into OUTPUT (PNG/JPG or MP4).")
    p.add_argument("input", metavar="INPUT")
    p.add_argument("output", metavar="OUTPUT")
    p.add_argument("--style", required=True, metavar="N|NAME|PICTURE",
                   help="built-in style 0-25, a user model name from <home>/styles, or a picture")
    p.add_argument("--blend", metavar="N|NAME|PICTURE", help="a second style to blend with")
    p.add_argument("--mix", type=float, default=0.5, help="share of --blend (0..1, default 0.5)")
    p.add_argument("--strength", type=float, default=1.0, help="0 = original, 1 = full style")
    p.add_argument("--size", default="1024x1024",
                   help="process within WxH and scale back up, or 'full' (default 1024x1024)")
    p.add_argument("--smooth", type=float, default=0.0,
                   help="temporal smoothing for videos, 0..0.9 (default 0: off)")
    p.add_argument("--provider", choices=PROVIDER_CHOICES, default="auto")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_stylize)

    b = sub.add_parser("bench-style", help="style latency and live FPS on this machine")
    b.add_argument("--seconds", type=float, default=5.0, help="length of the live run")
    b.add_argument("--provider", choices=PROVIDER_CHOICES, default="auto")
    b.add_argument("--workers", type=int, help="live styling workers (default: 2 on 2+ cores)")
    b.add_argument("--options", action="store_true",
                   help="measure the speed options instead: int8/fp16 copies checked against "
                        "fp32, session settings, worker split, scaling up (CPU only)")
    b.add_argument("--photos", type=Path,
                   help="face photos for the --options video (a folder like faces-dev)")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.set_defaults(func=cmd_bench)


def _progress(done: int, total: int, t0: float) -> None:
    width = 30
    fill = int(width * done / total) if total else 0
    rate = done / max(1e-6, time.perf_counter() - t0)
    sys.stderr.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {done}/{total} frames "
                     f"{rate:.1f} fps")
    sys.stderr.flush()


IMAGE_OUTPUTS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def check_output(src: Path, dst: Path) -> None:
    """Refuse, before any work, an output whose type cannot be written for this input."""
    import cv2

    suffix = dst.suffix.lower()
    if is_video(src):
        if suffix != ".mp4":
            raise StyleError(f"{dst}: video output must be an .mp4 file; name it e.g. out.mp4")
    elif suffix not in IMAGE_OUTPUTS or not cv2.haveImageWriter(str(dst)):
        raise StyleError(f"{dst}: unknown output type {suffix or '(no extension)'}; name the "
                         f"output {', '.join(IMAGE_OUTPUTS[:3])} or another of "
                         f"{', '.join(IMAGE_OUTPUTS[3:])}")
    if dst.is_dir():
        raise StyleError(f"{dst}: is a folder; give an output file name such as out.png")


def _write_image(dst: Path, bgr) -> None:
    """Write a styled image as its suffix says (folders created); StyleError on failure."""
    import cv2

    try:
        ok, data = cv2.imencode(dst.suffix.lower(), bgr)
    except cv2.error:
        ok = False
    if not ok:
        raise StyleError(f"{dst}: could not encode the image as {dst.suffix}; use .png or .jpg")
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(data.tobytes())
    except OSError as exc:
        raise StyleError(f"{dst}: cannot write ({exc.strerror or exc})") from None


def cmd_stylize(args: argparse.Namespace) -> int:
    """Style one image or video file."""
    check_output(Path(args.input), Path(args.output))
    if not 0.0 <= args.strength <= 1.0 or not 0.0 <= args.mix <= 1.0:
        raise StyleError("--strength and --mix must be between 0 and 1")
    if not 0.0 <= args.smooth < 1.0:
        raise StyleError("--smooth must be at least 0 and below 1")
    cache = SessionCache(args.provider)
    library = StyleLibrary(cache, data_home(args.home) / "styles")
    style = library.resolve(args.style)
    if args.blend:
        style = blend(style, library.resolve(args.blend), args.mix)
    renderer = StyleRenderer(style, args.strength, parse_size(args.size), args.smooth)
    src, dst = Path(args.input), Path(args.output)
    t0 = time.perf_counter()
    result = {"input": str(src), "output": str(dst), "style": style.name,
              "strength": args.strength}
    if is_video(src):
        show = None if args.json else (lambda d, t: _progress(d, t, t0))
        info = stylize_video(src, dst, renderer, show)
        if show:
            sys.stderr.write("\n")
        result.update(kind="video", **info)
    else:
        img = load_image(src)
        out = renderer.render(img)
        if dst.suffix.lower() == ".png":
            save_png(dst, out)
        else:
            _write_image(dst, out)
        result.update(kind="image", size=[img.shape[1], img.shape[0]],
                      seconds=round(time.perf_counter() - t0, 3))
    result["provider"] = cache.provider_used()
    emit(args, result, f"{src} -> {dst}  ({result['style']}, {result['kind']}, "
                       f"{result['seconds']:.2f} s on {result['provider']})")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Print style latency and live FPS figures (or, with --options, the option tables)."""
    from .bench import run_style_bench

    if args.options:
        from .options import run_options_bench

        if args.photos is not None and not args.photos.is_dir():
            print(f"facelens: error: {args.photos}: not a folder", file=sys.stderr)
            return 2
        try:
            run_options_bench(args.photos, seconds=args.seconds, json=args.json)
        except FileNotFoundError as exc:
            print(f"facelens: error: {exc}", file=sys.stderr)
            return 2
        return 0

    run_style_bench(args.json, seconds=args.seconds, provider=args.provider,
                    workers=args.workers)
    return 0
