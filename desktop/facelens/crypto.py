"""Optional encryption at rest of face templates and thumbnails with a passphrase.

AES-256-GCM (authenticated: a changed byte or a wrong passphrase fails loudly) from the
`cryptography` package; the key comes from the passphrase with scrypt and a random salt
kept next to the data. A sealed blob is ``b"FLE1" + 12-byte nonce + ciphertext + tag``.
"""

from __future__ import annotations

import hashlib
import secrets

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import FaceLensError

MAGIC = b"FLE1"
SCRYPT = {"n": 2**15, "r": 8, "p": 1}
SCRYPT_LIMITS = {"n": 2**20, "r": 32, "p": 16}  # refuse parameters read from a file beyond these
CHECK_TOKEN = b"facelens passphrase check"
OVERHEAD = len(MAGIC) + 12 + 16  # a sealed blob is this much longer than its plaintext
PASSPHRASE_ENV = "FACELENS_PASSPHRASE"  # where the app and the commands look for the passphrase


class CryptoError(FaceLensError):
    """A blob cannot be decrypted: wrong passphrase or altered data."""


def new_salt() -> bytes:
    return secrets.token_bytes(16)


def derive_key(passphrase: str, salt: bytes, params: dict | None = None) -> bytes:
    """A 32-byte key from a passphrase (scrypt; default n=2^15, r=8, p=1)."""
    if not passphrase:
        raise CryptoError("an empty passphrase cannot protect anything")
    params = {**SCRYPT, **(params or {})}
    n, r, p = (int(params[k]) for k in ("n", "r", "p"))
    if not (1 < n <= SCRYPT_LIMITS["n"] and n & (n - 1) == 0 and 0 < r <= SCRYPT_LIMITS["r"]
            and 0 < p <= SCRYPT_LIMITS["p"]):
        raise CryptoError(f"unsupported scrypt parameters n={n}, r={r}, p={p}")
    return hashlib.scrypt(passphrase.encode(), salt=salt, n=n, r=r, p=p, dklen=32,
                          maxmem=256 * n * r + 2**20)


class Sealer:
    """Encrypt and decrypt blobs with one key; `aad` binds a blob to its place (e.g. a row id).

    `salt` and `params` (scrypt's n, r, p) are kept on the sealer so they can be stored
    next to the data it seals.
    """

    def __init__(self, passphrase: str, salt: bytes, params: dict | None = None):
        self.salt = bytes(salt)
        self.params = {**SCRYPT, **(params or {})}
        self._aead = AESGCM(derive_key(passphrase, self.salt, self.params))

    def seal(self, data: bytes, aad: bytes = b"") -> bytes:
        nonce = secrets.token_bytes(12)
        return MAGIC + nonce + self._aead.encrypt(nonce, data, aad)

    def open(self, blob: bytes, aad: bytes = b"") -> bytes:
        if not blob.startswith(MAGIC):
            raise CryptoError("not an encrypted FaceLens blob")
        try:
            return self._aead.decrypt(blob[4:16], blob[16:], aad)
        except InvalidTag:
            raise CryptoError("cannot decrypt: wrong passphrase or altered data") from None

    def seal_array(self, arr: np.ndarray, aad: bytes = b"") -> bytes:
        """Seal a float32 template (its shape is kept in the plaintext header)."""
        a = np.ascontiguousarray(arr, dtype=np.float32)
        head = np.asarray(a.shape, dtype=np.int32)
        return self.seal(np.int32(a.ndim).tobytes() + head.tobytes() + a.tobytes(), aad)

    def open_array(self, blob: bytes, aad: bytes = b"") -> np.ndarray:
        raw = self.open(blob, aad)
        ndim = int(np.frombuffer(raw[:4], np.int32)[0])
        shape = tuple(np.frombuffer(raw[4:4 + 4 * ndim], np.int32))
        return np.frombuffer(raw[4 + 4 * ndim:], np.float32).reshape(shape).copy()

    def check_value(self) -> bytes:
        """A sealed token stored with the salt, to tell a wrong passphrase at once."""
        return self.seal(CHECK_TOKEN, b"check")

    def verify(self, check_value: bytes) -> None:
        if self.open(check_value, b"check") != CHECK_TOKEN:
            raise CryptoError("wrong passphrase")
