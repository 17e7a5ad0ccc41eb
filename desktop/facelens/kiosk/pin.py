"""The admin PIN: stored as a salted scrypt hash, with a growing delay after wrong tries.

The failure count and the time before the next try are kept in the same file, so
restarting the kiosk does not reset the delay.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import FaceLensError

FILE_NAME = "admin_pin.json"
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
FREE_TRIES = 2  # wrong tries before any delay
MAX_DELAY_S = 300.0


class PinError(FaceLensError):
    """The PIN cannot be set (too short, not digits) or no PIN is set."""


@dataclass(frozen=True)
class PinCheck:
    """The answer to a try: ``ok``, or the seconds to wait before the next try."""

    ok: bool
    wait_s: float = 0.0
    message: str = ""


def _hash(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, dklen=32)


def delay_after(failures: int) -> float:
    """Seconds to wait after `failures` wrong tries in a row: 0, 0, 1, 2, 4 ... 300."""
    if failures < FREE_TRIES:
        return 0.0
    return min(MAX_DELAY_S, 2.0 ** (failures - FREE_TRIES))


class AdminPin:
    """Check and change the admin PIN kept in ``admin_pin.json`` in the data folder."""

    def __init__(self, home: str | Path, clock=time.time):
        self.path = Path(home) / FILE_NAME
        self._clock = clock

    def is_set(self) -> bool:
        return self.path.exists()

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise PinError("no admin PIN is set: run `facelens kiosk set-pin`") from None
        except (OSError, ValueError) as exc:
            raise PinError(f"admin PIN file {self.path} is unreadable: {exc}") from exc

    def _write(self, state: dict) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def set(self, pin: str) -> None:
        """Store a new PIN (4 to 12 digits)."""
        if not (pin.isdigit() and 4 <= len(pin) <= 12):
            raise PinError("the admin PIN must be 4 to 12 digits")
        salt = secrets.token_bytes(16)
        self._write({"salt": salt.hex(), **SCRYPT, "hash": _hash(pin, salt, **SCRYPT).hex(),
                     "failures": 0, "next_try": 0.0})

    def check(self, pin: str) -> PinCheck:
        """Check a PIN; refuse without checking while the delay after wrong tries runs."""
        state = self._read()
        now = self._clock()
        wait = state["next_try"] - now
        if wait > 0:
            return PinCheck(False, wait, f"too many wrong tries: wait {wait:.0f} s")
        salt = bytes.fromhex(state["salt"])
        good = hmac.compare_digest(_hash(pin, salt, state["n"], state["r"], state["p"]),
                                   bytes.fromhex(state["hash"]))
        if good:
            state.update(failures=0, next_try=0.0)
            self._write(state)
            return PinCheck(True)
        state["failures"] += 1
        delay = delay_after(state["failures"])
        state["next_try"] = now + delay
        self._write(state)
        msg = "wrong PIN" + (f": wait {delay:.0f} s" if delay else "")
        return PinCheck(False, delay, msg)
