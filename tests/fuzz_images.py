"""Fuzzed image files, and `facelens identify` and `enrol` run on all of them in one call each.

    python tests/fuzz_images.py --count 1000      # from the repository root

makes COUNT files from the real photos in ../shared/faces-dev (truncations, bit flips, overwritten
bytes, headers declaring huge sizes, decompression bombs, 1-pixel strips, odd formats and bit
depths, files that are no image at all), enrols one person, then runs `identify --json` and
`enrol --json` over all files, and prints per call: exit code, tracebacks, files without a
result and the process's peak memory (RSS). tests/test_inputs_fuzz.py runs ~100 of them.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import struct
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
FACES_DEV = ROOT.parent / "shared" / "faces-dev"
KINDS = ["truncate", "bitflip", "overwrite", "huge_header", "bomb", "strip", "depth", "format",
         "not_image", "large"]
WEIGHTS = [20, 20, 10, 12, 2, 8, 10, 10, 5, 3]


def _seed_photos(faces_dev: Path) -> list[np.ndarray]:
    paths = sorted((faces_dev / "people").glob("*/1.*")) + sorted(
        (faces_dev / "groups").glob("*.jpg"))[:4] + sorted((faces_dev / "nofaces").glob("*"))[:2]
    return [img for img in (cv2.imread(str(p)) for p in paths) if img is not None]


def _encode(img: np.ndarray, ext: str) -> bytes:
    ok, data = cv2.imencode(ext, img)
    assert ok, ext
    return data.tobytes()


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(
        ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _png_bomb(width: int, height: int) -> bytes:
    """A real greyscale PNG of zeros: about 1 KB per 1 MP, so it stays small on disk."""
    co = zlib.compressobj(9)
    row = b"\0" * (width + 1)
    body = b"".join(co.compress(row) for _ in range(height)) + co.flush()
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height,
                                                                   8, 0, 0, 0, 0))
            + _png_chunk(b"IDAT", body) + _png_chunk(b"IEND", b""))


def _huge_header(rng: random.Random, img: np.ndarray) -> tuple[str, bytes]:
    """A real small image whose header is patched to declare a huge (or odd) size."""
    w, h = rng.choice([(30000, 30000), (65535, 65535), (60000, 1), (1, 60000), (20000, 20000),
                       (12000, 9000), (0, 100), (46341, 46341)])
    fmt = rng.choice(["jpg", "png", "bmp", "tiff", "webp", "gif"])
    if fmt == "jpg":
        data = bytearray(_encode(img, ".jpg"))
        i = data.find(b"\xff\xc0")
        data[i + 5:i + 9] = struct.pack(">HH", min(h, 65535), min(w, 65535))
    elif fmt == "png":
        data = bytearray(_encode(img, ".png"))
        ihdr = struct.pack(">II", w, h) + bytes(data[24:29])
        data[16:29] = ihdr
        data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    elif fmt == "bmp":
        data = bytearray(_encode(img, ".bmp"))
        data[18:26] = struct.pack("<ii", w, h)
    elif fmt == "tiff":
        buf = io.BytesIO()
        Image.fromarray(img[:, :, ::-1]).save(buf, "TIFF")
        data = bytearray(buf.getvalue())
        ifd = struct.unpack_from("<I", data, 4)[0]
        for k in range(struct.unpack_from("<H", data, ifd)[0]):
            at = ifd + 2 + 12 * k
            tag = struct.unpack_from("<H", data, at)[0]
            if tag in (256, 257):  # ImageWidth, ImageLength as LONG
                struct.pack_into("<HHII", data, at, tag, 4, 1, w if tag == 256 else h)
    elif fmt == "webp":
        data = bytearray(_encode(img, ".webp"))
        i = data.find(b"\x9d\x01\x2a")  # VP8 key frame start code, then 14-bit sizes
        if i > 0:
            data[i + 3:i + 7] = struct.pack("<HH", min(w, 16383), min(h, 16383))
    else:
        buf = io.BytesIO()
        Image.fromarray(img[:, :, ::-1]).save(buf, "GIF")
        data = bytearray(buf.getvalue())
        data[6:10] = struct.pack("<HH", min(w, 65535), min(h, 65535))
    return fmt, bytes(data)


def _odd_depth(rng: random.Random, img: np.ndarray) -> tuple[str, bytes]:
    kind = rng.choice(["png16", "tiff16", "tiff_float", "png_alpha", "png_alpha16", "grey16",
                       "png_1bit", "png_palette_alpha", "la", "cmyk_jpg", "tiff_int32"])
    if kind == "png16":
        return "png", _encode(img.astype(np.uint16) * 257, ".png")
    if kind == "tiff16":
        return "tiff", _encode(img.astype(np.uint16) * 257, ".tiff")
    if kind == "tiff_float":
        return "tiff", _encode(img.astype(np.float32) / 255, ".tiff")
    if kind == "png_alpha":
        bgra = cv2.cvtColor(img, cv2.COLOR_BGR2BGRA)
        bgra[:, :, 3] = rng.randrange(256)
        return "png", _encode(bgra, ".png")
    if kind == "png_alpha16":
        return "png", _encode(cv2.cvtColor(img, cv2.COLOR_BGR2BGRA).astype(np.uint16) * 257,
                              ".png")
    if kind == "grey16":
        return "png", _encode(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.uint16) * 257,
                              ".png")
    if kind == "tiff_int32":
        return "tiff", _encode(img.astype(np.int32) - 128, ".tiff")
    pil = Image.fromarray(img[:, :, ::-1])
    buf = io.BytesIO()
    if kind == "png_1bit":
        pil.convert("1").save(buf, "PNG")
    elif kind == "png_palette_alpha":
        pil.convert("P").save(buf, "PNG", transparency=0)
    elif kind == "la":
        pil.convert("LA").save(buf, "PNG")
    else:
        pil.convert("CMYK").save(buf, "JPEG")
        return "jpg", buf.getvalue()
    return "png", buf.getvalue()


def _odd_format(rng: random.Random, img: np.ndarray) -> tuple[str, bytes]:
    fmt = rng.choice(["ppm", "pgm", "pbm", "ras", "jp2", "hdr", "pfm", "gif", "ico", "avif",
                      "webp_lossless", "progressive_jpg", "multipage_tiff"])
    if fmt in ("ppm", "ras", "jp2", "hdr", "pfm"):
        src = img.astype(np.float32) / 255 if fmt in ("hdr", "pfm") else img
        return fmt, _encode(src, "." + fmt)
    if fmt == "pgm":
        return fmt, _encode(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), ".pgm")
    if fmt == "pbm":
        return fmt, _encode(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), ".pbm")
    if fmt == "webp_lossless":
        ok, data = cv2.imencode(".webp", img, [cv2.IMWRITE_WEBP_QUALITY, 101])
        return "webp", data.tobytes()
    pil = Image.fromarray(img[:, :, ::-1])
    buf = io.BytesIO()
    if fmt == "progressive_jpg":
        pil.save(buf, "JPEG", progressive=True)
        return "jpg", buf.getvalue()
    if fmt == "multipage_tiff":
        pil.save(buf, "TIFF", save_all=True, append_images=[pil.rotate(90), pil.resize((9, 9))])
        return "tiff", buf.getvalue()
    pil.save(buf, {"gif": "GIF", "ico": "ICO", "avif": "AVIF"}[fmt])
    return fmt, buf.getvalue()


def _strip(rng: random.Random) -> tuple[str, bytes]:
    h, w = rng.choice([(1, 20000), (20000, 1), (1, 1), (2, 3), (3, 5000), (5000, 2), (1, 16383),
                       (7, 7), (12, 40000), (40000, 12)])
    img = np.random.default_rng(rng.randrange(2**32)).integers(0, 256, (h, w, 3), np.uint8)
    fmt = rng.choice(["png", "jpg", "bmp", "tiff"] + (["webp"] if max(h, w) <= 16383 else []))
    return fmt, _encode(img, "." + fmt)


LARGE_SIZES = [(4000, 3000), (10000, 10000), (3000, 4000)]  # 12 MP camera photos, 100 MP
BOMB_SIZES = [(32000, 32000), (12000, 12000)]


def _large(img: np.ndarray, variant: int) -> tuple[str, bytes]:
    """A camera-sized photo (12 MP), or one just within FaceLens's 100 MP limit."""
    size = LARGE_SIZES[variant % len(LARGE_SIZES)]
    return "jpg", _encode(cv2.resize(img, size, interpolation=cv2.INTER_LINEAR), ".jpg")


def _not_image(rng: random.Random) -> tuple[str, bytes]:
    kind = rng.randrange(6)
    ext = rng.choice(["jpg", "png", "webp", "tiff"])
    return ext, [b"", b"this is not an image\n", os.urandom(rng.randrange(1, 5000)),
                 b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"<html><body>hi</body></html>"][kind]


def make_one(rng: random.Random, kind: str, photos: list[np.ndarray],
             variant: int = 0) -> tuple[str, bytes]:
    """(file extension, bytes) of one fuzzed file of `kind` (`variant`: which bomb or large)."""
    img = rng.choice(photos)
    if kind in ("truncate", "bitflip", "overwrite"):
        fmt = rng.choice(["jpg", "png", "webp", "bmp", "tiff"])
        data = bytearray(_encode(img, "." + fmt))
        if kind == "truncate":
            return fmt, bytes(data[:rng.randrange(1, len(data))])
        if kind == "bitflip":
            for _ in range(rng.randrange(1, 40)):
                i = rng.randrange(min(len(data), 400) if rng.random() < 0.5 else len(data))
                data[i] ^= 1 << rng.randrange(8)
            return fmt, bytes(data)
        at = rng.randrange(len(data))
        span = rng.randrange(1, 200)
        data[at:at + span] = os.urandom(min(span, len(data) - at))
        return fmt, bytes(data)
    if kind == "huge_header":
        return _huge_header(rng, img)
    if kind == "bomb":
        return "png", _png_bomb(*BOMB_SIZES[variant % len(BOMB_SIZES)])
    if kind == "strip":
        return _strip(rng)
    if kind == "depth":
        return _odd_depth(rng, img)
    if kind == "format":
        return _odd_format(rng, img)
    if kind == "large":
        return _large(img, variant)
    return _not_image(rng)


def make_corpus(out: Path, count: int, seed: int = 0,
                faces_dev: Path = FACES_DEV) -> list[Path]:
    """Write `count` fuzzed files into `out` (deterministic for a `seed`); their paths."""
    rng = random.Random(seed)
    photos = _seed_photos(faces_dev)
    out.mkdir(parents=True, exist_ok=True)
    kinds = rng.choices(KINDS, WEIGHTS, k=count)
    for k in KINDS[:min(count, len(KINDS))]:  # every kind at least once
        kinds[KINDS.index(k)] = k
    slow: dict[tuple[str, int], tuple[str, bytes]] = {}  # bombs and large photos, reused
    made = {"bomb": 0, "large": 0}
    paths = []
    for i, kind in enumerate(kinds):
        if kind in made:
            sizes = BOMB_SIZES if kind == "bomb" else LARGE_SIZES
            key = (kind, made[kind] % len(sizes))
            made[kind] += 1
            if key not in slow:
                slow[key] = make_one(rng, kind, photos, key[1])
            ext, data = slow[key]
        else:
            ext, data = make_one(rng, kind, photos)
        path = out / f"{i:04d}_{kind}.{ext}"
        path.write_bytes(data)
        paths.append(path)
    return paths


@dataclass
class CallReport:
    """What one CLI call over all fuzzed files gave."""

    command: str
    exit_code: int
    seconds: float
    peak_rss_mb: float
    results: int
    missing: list[str] = field(default_factory=list)
    tracebacks: int = 0
    errors: int = 0
    stderr_tail: str = ""
    per_file: list[dict] = field(default_factory=list, repr=False)  # the JSON result of each

    @property
    def crashed(self) -> bool:
        return self.exit_code not in (0, 1) or self.tracebacks > 0


def run_cli(argv: list[str], env: dict[str, str]) -> tuple[int, str, str, float, float]:
    """Run `python -m facelens.cli ARGV`; (exit code, stdout, stderr, seconds, peak RSS MB).

    The peak is the process's own maximum resident set size, from wait4().
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "facelens.cli", *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    streams: dict[str, str] = {}
    readers = [threading.Thread(target=lambda k=k, f=f: streams.__setitem__(k, f.read()))
               for k, f in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:
        t.start()
    _, status, usage = os.wait4(proc.pid, 0)
    for t in readers:
        t.join()
    proc.stdout.close()
    proc.stderr.close()
    proc.returncode = code = os.waitstatus_to_exitcode(status)
    return code, streams["out"], streams["err"], time.perf_counter() - t0, usage.ru_maxrss / 1024


def fuzz_calls(paths: list[Path], home: Path, env: dict[str, str] | None = None,
               faces_dev: Path = FACES_DEV) -> list[CallReport]:
    """Enrol one real person, then `identify` and `enrol` over all `paths` in one call each."""
    env = dict(os.environ if env is None else env)
    amy = faces_dev / "people" / "bbt_amy" / "1.png"
    code, _, err, _, _ = run_cli(["--home", str(home), "enrol", "Amy", str(amy)], env)
    assert code == 0, err
    files = [str(p) for p in paths]
    reports = []
    for command in (["identify", "--json"], ["enrol", "--json", "--largest", "Fuzz"]):
        code, out, err, seconds, peak = run_cli(["--home", str(home), *command, *files], env)
        objects = [json.loads(line) for line in out.splitlines() if line.strip()]
        if command[0] == "identify":
            per_file = [o for o in objects if "image" in o]
        else:
            per_file = objects[0]["images"] if objects and "images" in objects[0] else []
        seen = [o["image"] for o in per_file]
        missing = [f for f in files if f not in seen]
        errors = sum(1 for o in per_file if o.get("error"))
        reports.append(CallReport(command[0], code, round(seconds, 1), round(peak), len(per_file),
                                  missing, err.count("Traceback"), errors, err[-2000:],
                                  per_file))
    return reports


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("build/fuzz"),
                        help="folder for the fuzzed files and the data folder (default build/fuzz)")
    args = parser.parse_args()
    if not FACES_DEV.is_dir():
        print(f"fuzz_images: {FACES_DEV} not found; it holds the real photos the files are made "
              "from (../shared/faces-dev beside the repository)", file=sys.stderr)
        return 2
    import shutil
    import tempfile

    args.out.mkdir(parents=True, exist_ok=True)
    files = Path(tempfile.mkdtemp(prefix="files-", dir=args.out))
    home = Path(tempfile.mkdtemp(prefix="home-", dir=args.out))
    t0 = time.perf_counter()
    paths = make_corpus(files, args.count, args.seed)
    size = sum(p.stat().st_size for p in paths) / 2**20
    print(f"{len(paths)} fuzzed files ({size:.0f} MiB) made in {time.perf_counter() - t0:.0f} s "
          f"in {files}")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "desktop"), env.get("PYTHONPATH", "")])
    failed = False
    for r in fuzz_calls(paths, home, env):
        print(f"{r.command:8s} exit {r.exit_code}  {r.results}/{len(paths)} results  "
              f"{r.errors} with an error  {len(r.missing)} missing  {r.tracebacks} tracebacks  "
              f"peak RSS {r.peak_rss_mb:.0f} MB  {r.seconds:.0f} s")
        if r.crashed or r.missing:
            failed = True
            print(r.stderr_tail, file=sys.stderr)
    shutil.rmtree(files)
    shutil.rmtree(home)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
