"""Download one file over HTTP(S): resumable, size-capped and checked against a pinned digest.

The file grows as ``<dest>.part``; a cut connection or a timeout resumes from where it stopped
with an HTTP ``Range`` request, and ``<dest>`` appears only once the whole file matches its
pinned digest. Written over the standard library's ``urllib`` (no new dependency): it honours
the usual ``https_proxy`` / ``no_proxy`` variables and the system's certificates.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from .. import __version__
from ..errors import ModelPackError

ByteProgress = Callable[[int, "int | None"], None]
"""Called as bytes arrive: ``(bytes so far, total bytes or None when the server did not say)``."""

DEFAULT_MAX_BYTES = 2 << 30  # 2 GiB: no model pack FaceLens knows comes near it
CHUNK = 1 << 16
USER_AGENT = f"FaceLens/{__version__} (model pack download)"


class DownloadError(ModelPackError):
    """A download failed; the message says why and what to do, `reason` says why in brief."""

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


def file_digest(path: Path, algo: str = "sha256") -> str:
    """Hex digest of a file, read in chunks."""
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def _quiet(done: int, total: int | None) -> None:
    pass


class _Retry(Exception):
    """A transient failure: try again, resuming the .part file."""


class _Unreachable(DownloadError):
    """The server cannot be reached at all: the .part file is kept for the next run."""


def download(url: str, dest: Path, *, digest: str | None, algo: str = "sha256",
             max_bytes: int = DEFAULT_MAX_BYTES, progress: ByteProgress = _quiet,
             timeout: float = 30.0, attempts: int = 5, retry_wait: float = 1.0,
             headers: Mapping[str, str] | None = None, proxy: str | None = None) -> Path:
    """Fetch `url` into `dest` and return `dest`, checked against the hex `digest` (`algo`).

    A `dest` that already matches is returned at once. Cut connections, timeouts and server
    errors (5xx) are retried up to `attempts` times, resuming with HTTP Range; when they run out,
    or the server cannot be reached, the ``.part`` file stays so that the next run resumes. A
    wrong digest, a file over `max_bytes` or an HTTP 4xx answer remove it. Nothing is ever left
    at `dest` that does not match. `digest=None` skips the check (for metadata only). `proxy`
    (a URL) replaces the proxy from the environment (``https_proxy`` ...).
    """
    dest = Path(dest)
    if digest and dest.is_file() and file_digest(dest, algo) == digest.lower():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    resumed = part.exists()
    restarted = False  # a resumed .part that fails the digest is fetched once more from zero
    failures = 0
    while True:
        try:
            _fetch_into(url, part, max_bytes, progress, timeout, headers or {}, proxy)
        except _Retry as exc:
            failures += 1
            resumed = True
            if failures >= attempts:
                raise DownloadError(
                    f"{url}: {exc} ({attempts} tries); check the network connection (or the "
                    "proxy settings) and run the command again: it resumes where it stopped",
                    f"{exc}, {attempts} tries") from None
            time.sleep(retry_wait * failures)
            continue
        except _Unreachable:
            raise
        except DownloadError:
            part.unlink(missing_ok=True)
            raise
        if digest:
            actual = file_digest(part, algo)
            if actual != digest.lower():
                part.unlink(missing_ok=True)
                if resumed and not restarted:
                    restarted = resumed = True
                    continue
                raise DownloadError(
                    f"{url}: the downloaded file has {algo} {actual[:16]}..., expected "
                    f"{digest.lower()[:16]}...: it is damaged or not the pinned file, and was "
                    "deleted. Run the command again; if it fails the same way, the server holds "
                    "another file than the recipe pins", f"wrong {algo} checksum")
        os.replace(part, dest)
        return dest


def _fetch_into(url: str, part: Path, max_bytes: int, progress: ByteProgress, timeout: float,
                headers: Mapping[str, str], proxy: str | None) -> None:
    """One HTTP request that appends to `part`; raises _Retry for transient failures."""
    have = part.stat().st_size if part.exists() else 0
    if have > max_bytes:
        part.unlink()
        have = 0
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT,
                                               "Accept-Encoding": "identity"})
    for key, value in headers.items():
        if key.lower() == "authorization":  # never forwarded by a redirect (e.g. to a CDN)
            req.add_unredirected_header(key, value)
        else:
            req.add_header(key, value)
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        if proxy:
            opener = urllib.request.build_opener(
                urllib.request.ProxyHandler({"http": proxy, "https": proxy}))
            resp = opener.open(req, timeout=timeout)
        else:
            resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the .part is already whole (or not this file): restart
            part.unlink()
            raise _Retry("the server refused to resume") from None
        if exc.code >= 500:
            raise _Retry(f"the server answered HTTP {exc.code} ({exc.reason})") from None
        hint = ("the file is not there (the recipe's URL may have moved)" if exc.code in (404, 410)
                else "access was refused" if exc.code in (401, 403) else "the request was refused")
        raise DownloadError(
            f"{url}: the server answered HTTP {exc.code} ({exc.reason}): {hint}; check the URL, "
            "or fetch the file elsewhere and use `facelens models install FILE`",
            f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise _Retry(f"no answer from {_host(url)} within {timeout:g} s") from None
        if isinstance(reason, ConnectionRefusedError):
            raise _Unreachable(
                f"{url}: connection refused by {_host(url)}: the server is down or the address "
                "is wrong; check it (and any proxy setting), or fetch the file elsewhere and use "
                "`facelens models install FILE`", "connection refused") from None
        if isinstance(reason, ssl.SSLCertVerificationError):
            raise _Unreachable(
                f"{url}: the TLS certificate of {_host(url)} could not be verified "
                f"({reason.verify_message}); if a proxy on this network inspects HTTPS, add its "
                "CA certificate to the system's store (or point SSL_CERT_FILE at it)",
                "TLS certificate not trusted") from None
        if isinstance(reason, socket.gaierror):
            raise _Unreachable(
                f"{url}: cannot resolve the host name {urlsplit(url).hostname!r}: this machine "
                "seems to be offline; connect it, or fetch the file elsewhere and use "
                "`facelens models install FILE`", f"cannot resolve {urlsplit(url).hostname}"
            ) from None
        if isinstance(reason, OSError):
            raise _Retry(f"cannot connect to {_host(url)} ({reason})") from None
        raise DownloadError(f"{url}: {reason}; check the URL and the network") from None
    except TimeoutError:
        raise _Retry(f"no answer from {_host(url)} within {timeout:g} s") from None
    except (ConnectionError, http.client.HTTPException) as exc:
        raise _Retry(f"the connection to {_host(url)} failed ({exc})") from None
    with resp:
        start = 0
        if resp.status == 206:
            m = re.match(r"bytes (\d+)-", resp.headers.get("Content-Range", ""))
            start = int(m.group(1)) if m else -1
            if start != have:  # a range we did not ask for: start over
                part.unlink(missing_ok=True)
                raise _Retry("the server resumed at the wrong place")
        length = resp.headers.get("Content-Length")
        total = start + int(length) if length and length.isdigit() else None
        if total is not None and total > max_bytes:
            raise DownloadError(
                f"{url}: the server offers {total:,} bytes, more than the {max_bytes:,} this "
                "file may have: it is not the pinned file; nothing was kept", "file too large")
        done = start
        progress(done, total)
        try:
            with open(part, "ab" if start else "wb") as out:
                while chunk := resp.read(CHUNK):
                    done += len(chunk)
                    if done > max_bytes:
                        raise DownloadError(
                            f"{url}: the download passed {max_bytes:,} bytes, more than this "
                            "file may have: it is not the pinned file; nothing was kept",
                            "file too large")
                    out.write(chunk)
                    progress(done, total)
        except TimeoutError:
            raise _Retry(f"{_host(url)} stopped sending for {timeout:g} s") from None
        except (ConnectionError, http.client.IncompleteRead, http.client.HTTPException) as exc:
            raise _Retry(f"the connection was cut after {done:,} bytes ({type(exc).__name__})"
                         ) from None
        if total is not None and done < total:
            raise _Retry(f"the connection was cut after {done:,} of {total:,} bytes")


def step_progress(progress: Callable[[str, float], None], label: str, lo: float, hi: float,
                  every: float = 0.05) -> ByteProgress:
    """A ByteProgress that reports ``label: x of y MB`` to a pack-build `progress` callback,
    mapped into the build's share ``lo..hi``, each time another `every` of the file arrived."""
    last = [-1.0]

    def report(done: int, total: int | None) -> None:
        mark = done / total if total else done / (100 << 20)  # size unknown: every 5 MB
        if mark - last[0] < every and not (total and done == total and last[0] < 1.0):
            return
        last[0] = mark
        size = f"{done / 1e6:.1f} of {total / 1e6:.1f} MB" if total else f"{done / 1e6:.1f} MB"
        progress(f"{label}: {size}", lo + (hi - lo) * (done / total if total else 0.0))

    return report
