"""The admin PIN: stored as a salted scrypt hash, with a growing delay after wrong tries.

The failure count and the time before the next try are kept in the same file, so
restarting the kiosk does not reset the delay.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from ..atomic_write import write_atomic
from ..config_schema import WHOLE_FILE, ConfigError, read_json
from ..errors import FaceLensError

FILE_NAME = "admin_pin.json"
SCRYPT = {"n": 2**14, "r": 8, "p": 1}
SCRYPT_MAXMEM = 32 * 2**20  # hashlib.scrypt's own default limit
FREE_TRIES = 2  # wrong tries before any delay
MAX_DELAY_S = 300.0


class PinError(FaceLensError):
    """The PIN cannot be set (too short, not digits) or no PIN is set."""


class PinFileError(PinError, ConfigError):
    """``admin_pin.json`` is damaged or holds values it cannot (one line per problem)."""


def _shown(state: dict, name: str) -> str:
    return f"{state[name]!r} is not usable" if name in state else "is missing"


def validate_pin_state(state: object, path: Path) -> dict:
    """`state` (parsed ``admin_pin.json``) if every field is usable, else PinFileError listing
    each problem. scrypt's cost is capped (n <= 2**16, r <= 16, p <= 4, memory <= 32 MiB), so a
    crafted file cannot make a check exhaust memory or run for minutes."""
    fix = f"move {path.name} away and set a new PIN with `facelens kiosk set-pin`"
    if not isinstance(state, dict):
        raise PinFileError([f"{WHOLE_FILE}: holds {type(state).__name__}, not an object; "
                            f"{fix}"], path)
    problems = []

    def whole(name: str, lo: int, hi: int, power_of_two: bool = False) -> None:
        v = state.get(name)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi \
                or (power_of_two and v & (v - 1)):
            kind = "a power of two" if power_of_two else "a whole number"
            problems.append(f"{name}: {_shown(state, name)}; it must be {kind} from {lo} to "
                            f"{hi}; {fix}")

    for name, size in (("salt", None), ("hash", 32)):
        v = state.get(name)
        try:
            ok = isinstance(v, str) and len(bytes.fromhex(v)) in ((size,) if size else
                                                                  range(8, 65))
        except ValueError:
            ok = False
        length = f"{size} bytes" if size else "8 to 64 bytes"
        if not ok:
            problems.append(f"{name}: {_shown(state, name)}; it must be {length} of hex; {fix}")
    whole("n", 2, 2**16, power_of_two=True)
    whole("r", 1, 16)
    whole("p", 1, 4)
    if not problems and 128 * state["n"] * state["r"] > SCRYPT_MAXMEM:
        problems.append(f"n, r: scrypt would need {128 * state['n'] * state['r'] >> 20} MiB, "
                        f"more than {SCRYPT_MAXMEM >> 20} MiB; {fix}")
    whole("failures", 0, 10**9)
    t = state.get("next_try")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not 0 <= t < 1e11:
        problems.append(f"next_try: {_shown(state, 'next_try')}; it must be a time (seconds "
                        f"since 1970); {fix}")
    if problems:
        raise PinFileError(problems, path)
    return state


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

    def check_file(self) -> None:
        """PinFileError (one line per problem) when the PIN file exists but is damaged."""
        if self.is_set():
            self._read()

    def _read(self) -> dict:
        try:
            raw = read_json(self.path, PinFileError)
        except FileNotFoundError:
            raise PinError("no admin PIN is set: run `facelens kiosk set-pin`") from None
        return validate_pin_state(raw, self.path)

    def _write(self, state: dict) -> None:
        write_atomic(self.path, json.dumps(state), mode=0o600)

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
