"""Encryption at rest of the gallery's templates and thumbnails (AES-256-GCM, key by scrypt).

An encrypted gallery has one row ``encryption`` in its ``meta`` table: JSON with the cipher,
the KDF and its parameters, the salt, and a key check value (a known token sealed with the
key) that tells a wrong passphrase at once. Each vector and thumbnail is sealed with
associated data naming its template id, its person id and its purpose, so a blob copied into
another row, person or column does not decrypt. Names, sources and dates stay in clear.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..crypto import OVERHEAD, PASSPHRASE_ENV, CryptoError, Sealer, new_salt
from ..errors import GalleryError
from . import db

META_KEY = "encryption"
CIPHER = "AES-256-GCM"

# A passphrase, or a function asked for it only when the gallery turns out to be encrypted.
Passphrase = str | Callable[[], str | None] | None


def _aad(purpose: str, template_id: int, person_id: int, extra: str = "") -> bytes:
    return f"facelens-gallery/{purpose}/template={template_id}/person={person_id}{extra}".encode()


class Codec:
    """How blobs are stored: in clear (`sealer` None) or sealed with `sealer`."""

    def __init__(self, sealer: Sealer | None = None, check: bytes | None = None) -> None:
        self.sealer = sealer
        self.check = check if check is not None else (sealer.check_value() if sealer else None)

    @property
    def encrypted(self) -> bool:
        return self.sealer is not None

    def state(self) -> dict | None:
        """What goes in the meta table (None: not encrypted)."""
        if self.sealer is None:
            return None
        return {"cipher": CIPHER, "kdf": "scrypt", **self.sealer.params,
                "salt": self.sealer.salt.hex(), "check": self.check.hex()}

    def seal_vector(self, tid: int, pid: int, model_id: str, dim: int, vec: np.ndarray) -> bytes:
        raw = np.ascontiguousarray(vec, dtype="<f4").tobytes()
        if self.sealer is None:
            return raw
        return self.sealer.seal(raw, _aad("vector", tid, pid, f"/{model_id}/{dim}"))

    def open_vector(self, tid: int, pid: int, model_id: str, dim: int, blob: bytes) -> bytes:
        """The template's float32 bytes; GalleryError when they cannot be read."""
        if self.sealer is None:
            if len(blob) != 4 * dim:
                raise _unreadable(tid, "its vector has the wrong length (encrypted data in a "
                                  "gallery marked as not encrypted?)")
            return bytes(blob)
        if len(blob) != 4 * dim + OVERHEAD:
            raise _unreadable(tid, "its vector is not encrypted although the gallery is")
        return self._open(bytes(blob), _aad("vector", tid, pid, f"/{model_id}/{dim}"), tid)

    def seal_thumbnail(self, tid: int, pid: int, thumb: bytes | None) -> bytes | None:
        if thumb is None or self.sealer is None:
            return None if thumb is None else bytes(thumb)
        return self.sealer.seal(bytes(thumb), _aad("thumbnail", tid, pid))

    def open_thumbnail(self, tid: int, pid: int, blob: bytes | None) -> bytes | None:
        if blob is None or self.sealer is None:
            return blob
        return self._open(bytes(blob), _aad("thumbnail", tid, pid), tid)

    def seal_crop(self, cid: int, pid: int, png: bytes) -> bytes:
        """An aligned face crop (PNG bytes) as stored: sealed when the gallery is encrypted."""
        if self.sealer is None:
            return bytes(png)
        return self.sealer.seal(bytes(png), _aad("crop", cid, pid))

    def open_crop(self, cid: int, pid: int, blob: bytes) -> bytes:
        if self.sealer is None:
            return bytes(blob)
        return self._open(bytes(blob), _aad("crop", cid, pid), cid)

    def _open(self, blob: bytes, aad: bytes, tid: int) -> bytes:
        try:
            return self.sealer.open(blob, aad)
        except CryptoError:
            raise _unreadable(tid, "its encrypted data was altered or moved from another row "
                              "(authentication failed)") from None


class TemplateUnreadable(GalleryError):
    """One template cannot be read (altered, moved, or in the wrong form): `why` says how."""

    def __init__(self, template_id: int, why: str) -> None:
        super().__init__(f"template {template_id} of the gallery cannot be read: {why}. The "
                         "file was not changed; restore a backup (export) if it was "
                         "tampered with.")
        self.template_id = template_id
        self.why = why


def _unreadable(tid: int, why: str) -> GalleryError:
    return TemplateUnreadable(tid, why)


def read_state(conn: sqlite3.Connection) -> dict | None:
    """The gallery's encryption settings from the meta table, or None when not encrypted."""
    if not db.has_meta(conn):
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (META_KEY,)).fetchone()
    return None if row is None else json.loads(row[0])


def write_state(conn: sqlite3.Connection, codec: Codec) -> None:
    """Record `codec`'s settings (call inside a transaction, after `db.upgrade`)."""
    state = codec.state()
    if state is None:
        conn.execute("DELETE FROM meta WHERE key = ?", (META_KEY,))
    else:
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                     (META_KEY, json.dumps(state)))


def same_key(codec: Codec, state: dict | None) -> bool:
    """Whether `state` (as read from a file) is what `codec` was made for."""
    if state is None or codec.check is None:
        return state is None and codec.check is None
    return state.get("check") == codec.check.hex()


def new_codec(passphrase: str) -> Codec:
    """A codec with a fresh salt for `passphrase` (about 0.1 s of scrypt)."""
    try:
        return Codec(Sealer(passphrase, new_salt()))
    except CryptoError as exc:
        raise GalleryError(f"cannot encrypt the gallery: {exc}") from None


def unlock(state: dict | None, passphrase: Passphrase, path: Path) -> Codec:
    """The codec for a gallery whose meta says `state`; GalleryError when it cannot be opened."""
    if state is None:
        return Codec()
    if state.get("cipher") != CIPHER or state.get("kdf") != "scrypt":
        raise GalleryError(f"the gallery {path} is encrypted with {state.get('cipher')} / "
                           f"{state.get('kdf')}, which this FaceLens does not know; update it")
    phrase = passphrase() if callable(passphrase) else passphrase
    if not phrase:
        raise GalleryError(
            f"the gallery {path} is encrypted: give the passphrase with the {PASSPHRASE_ENV} "
            "environment variable (commands also ask for it in a terminal). Nothing was changed.")
    try:
        sealer = Sealer(phrase, bytes.fromhex(state["salt"]),
                        {k: state[k] for k in ("n", "r", "p")})
        check = bytes.fromhex(state["check"])
        sealer.verify(check)
    except CryptoError:
        raise GalleryError(f"wrong passphrase for the encrypted gallery {path} (or its key "
                           "check was altered). Nothing was changed.") from None
    except (KeyError, ValueError, TypeError) as exc:
        raise db.damaged(path, f"unreadable encryption settings: {exc!r}") from None
    return Codec(sealer, check)
