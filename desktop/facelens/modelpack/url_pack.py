"""Packs whose recipe names a URL source: a zip of ONNX files, or one ONNX file.

The recipe pins the download (``source.sha256``, ``source.bytes``) and, for a zip, each file
taken out of it (``models.<role>.member_sha256``). Its licence is shown and must be accepted
before anything is fetched; refused, nothing is downloaded or kept.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from ..errors import ModelPackError
from .download import DEFAULT_MAX_BYTES, DownloadError, download, file_digest, step_progress

MANIFESTS = Path(__file__).with_name("manifests")
MAX_MEMBER_BYTES = 2 << 30  # no ONNX file of a known pack comes near it (zip-bomb guard)

AcceptLicence = Callable[[str, dict], bool]
"""Asked ``(pack name, recipe source)`` before a download; True when the user accepts."""
Progress = Callable[[str, float], None]


class LicenceNotAccepted(ModelPackError):
    """The user did not accept a pack's licence: nothing was downloaded or kept."""


def licence_notice(name: str, src: dict) -> str:
    """What the user reads before accepting a pack's licence."""
    commercial = "allowed" if src.get("commercial_use") else "NOT allowed"
    lines = [f"Model pack {name!r} is downloaded from {src['url']}",
             f"Licence: {src['licence']}", f"Commercial use: {commercial}"]
    if src.get("licence_url"):
        lines.append(f"Licence text: {src['licence_url']}")
    return "\n".join(lines)


def require_licence(name: str, src: dict, accept: AcceptLicence | None) -> None:
    """Raise LicenceNotAccepted unless `accept` says yes to pack `name`'s licence."""
    if accept is None or not accept(name, src):
        raise LicenceNotAccepted(
            f"model pack {name!r}: licence not accepted ({src['licence']}); nothing was "
            f"downloaded or kept. Read it, then run `facelens models build {name} "
            "--accept-licence` to accept it")


def source_file(src: dict) -> str:
    """The name the source download has in the cache folder."""
    return src.get("file") or PurePosixPath(urlsplit(src["url"]).path).name


def fetch_url_source(name: str, src: dict, cache: Path, progress: Progress,
                     accept: AcceptLicence | None, timeout: float = 30.0) -> Path:
    """The pinned source file of pack `name` in `cache`, once its licence is accepted:
    downloaded unless it is there already, trying the mirrors in turn."""
    require_licence(name, src, accept)
    dest = cache / source_file(src)
    if dest.is_file() and file_digest(dest) == src["sha256"]:
        return dest  # fetched before, or put there by `facelens models install`
    urls = [src["url"], *src.get("mirrors", [])]
    reasons: dict[str, list[str]] = {}  # reason -> the URLs that failed with it
    for url in urls:
        try:
            return download(url, dest, digest=src["sha256"],
                            max_bytes=int(src.get("bytes") or DEFAULT_MAX_BYTES),
                            progress=step_progress(progress, f"Downloading {dest.name}", 0.0,
                                                   0.8),
                            timeout=timeout)
        except DownloadError as exc:
            reason = str(exc).removeprefix(f"{url}: ")
            reasons.setdefault(reason, []).append(url)
    raise DownloadError("; ".join(f"{' and '.join(failed)}: {reason}"
                                  for reason, failed in reasons.items()))


def _extract_members(archive: Path, members: dict[str, tuple[str, str]], work: Path) -> None:
    """Copy zip members, found by file name, to ``work/<onnx name>`` (role -> (member, onnx))."""
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile:
        raise ModelPackError(f"{archive} is not a zip file: delete it and build again") from None
    with zf:
        by_name: dict[str, list[zipfile.ZipInfo]] = {}
        for info in zf.infolist():
            if not info.is_dir():
                by_name.setdefault(PurePosixPath(info.filename).name, []).append(info)
        for member, onnx in members.values():
            found = by_name.get(member, [])
            if len(found) != 1:
                what = "has no" if not found else "has more than one"
                raise ModelPackError(f"{archive.name} {what} {member}: it is not the pinned file")
            if found[0].file_size > MAX_MEMBER_BYTES:
                raise ModelPackError(f"{archive.name}: {member} is too large to be a model")
            with zf.open(found[0]) as src, open(work / onnx, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)


def build_url_pack(recipe: dict, home: Path, progress: Progress,
                   accept: AcceptLicence | None) -> Path:
    """Download, check and unpack the URL-source pack `recipe` into ``home/<name>``."""
    name, src = recipe["name"], recipe["source"]
    target = home / name
    archive = fetch_url_source(name, src, home / "cache", progress, accept)
    progress(f"Checking {archive.name}", 0.85)
    with tempfile.TemporaryDirectory(dir=home, prefix=f".{name}-build-") as tmp:
        work = Path(tmp)
        models = recipe["models"]
        if src.get("archive") == "zip":
            _extract_members(archive, {r: (m["member"], m["onnx"]) for r, m in models.items()},
                             work)
        elif len(models) == 1:
            shutil.copyfile(archive, work / next(iter(models.values()))["onnx"])
        else:
            raise ModelPackError(f"recipe {name!r}: a single-file source serves one model only")
        files = {}
        for role, spec in models.items():
            path = work / spec["onnx"]
            actual = file_digest(path)
            pinned = spec.get("member_sha256") or (None if src.get("archive") else src["sha256"])
            if pinned and actual != pinned:
                raise ModelPackError(
                    f"{spec.get('member', path.name)} in {archive.name} has sha256 "
                    f"{actual[:12]}..., expected {pinned[:12]}...: the download was altered. "
                    f"Delete {archive} and build again.")
            files[role] = {**spec, "sha256": actual, "bytes": path.stat().st_size}
        accepted = datetime.now(UTC).isoformat(timespec="seconds")
        manifest = {**recipe, "models": files, "builder": "facelens url_pack",
                    "licence_accepted": accepted}
        (work / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        card = MANIFESTS / f"{name}.card.md"
        if card.exists():
            shutil.copy(card, work / "MODEL_CARD.md")
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
        work.mkdir()  # for TemporaryDirectory's own clean-up
    return target
