"""Door actions on a granted decision: run a command, POST JSON, or write a serial line.

Each person has a cooldown so standing at the door does not trigger the action again and
again. A failure comes back as an :class:`ActionResult` with ``ok=False`` and a message that
the kiosk logs and shows: never silent.

``timeout_s`` bounds the whole action, not each read: an HTTP server that trickles its
answer, a command that hangs or a device nobody reads fails with "timed out" when it runs
out. A command is judged by its own exit status; children it leaves running are not waited
for. The kiosk runs actions on a worker of its own (:mod:`.door_worker`), never in the
thread that decides.
"""

from __future__ import annotations

import errno
import http.client
import json
import os
import shlex
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

KINDS = ("none", "command", "http", "serial")
GRACE_S = 0.5  # past the deadline, what a runner gets to notice it (the backstop's margin)


@dataclass(frozen=True)
class ActionConfig:
    """``kind`` is one of :data:`KINDS`; ``target`` is the command, URL or device path."""

    kind: str = "none"
    target: str = ""
    cooldown_s: float = 10.0
    timeout_s: float = 3.0  # for the whole action


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    skipped: bool = False  # in cooldown, or no action configured
    message: str = ""
    pending: bool = False  # handed to the door worker; the outcome comes later
    seconds: float = 0.0  # how long the action ran


class ActionTimeout(Exception):
    """The action did not finish within its deadline."""


@dataclass
class DoorAction:
    """Fire the configured action for a granted person, at most once per cooldown."""

    config: ActionConfig
    clock: object = time.monotonic
    _last: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.config.kind not in KINDS:
            raise ValueError(f"door action kind must be one of {KINDS}, not {self.config.kind!r}")

    def fire(self, person: str, payload: dict | None = None) -> ActionResult:
        """Run the action for `person` now, unless it ran for them less than a cooldown ago."""
        return self.admit(person) or self.run(person, payload)

    def admit(self, person: str) -> ActionResult | None:
        """None when the action should run for `person` (their cooldown starts now), else
        the skipped result (no action configured, or in cooldown)."""
        if self.config.kind == "none":
            return ActionResult(True, skipped=True, message="no door action configured")
        with self._lock:
            now = self.clock()
            last = self._last.get(person)
            if last is not None and now - last < self.config.cooldown_s:
                return ActionResult(True, skipped=True, message="in cooldown")
            self._last[person] = now
        return None

    def run(self, person: str, payload: dict | None = None) -> ActionResult:
        """Run the action for `person` (after `admit`) within ``timeout_s``; a failure ends
        the cooldown so the next decision may try again."""
        config = self.config
        body = {"event": "granted", "person": person,
                "time": datetime.now().astimezone().isoformat(timespec="seconds"),
                **(payload or {})}
        runner = getattr(self, f"_{config.kind}")
        start = time.monotonic()
        try:
            message = _within(config.timeout_s, lambda deadline: runner(body, deadline))
        except Exception as exc:  # every failure is reported to the caller, never swallowed
            with self._lock:
                self._last.pop(person, None)
            if isinstance(exc, ActionTimeout | TimeoutError | socket.timeout):
                message = (f"door action {config.kind} timed out: no result within "
                           f"{config.timeout_s:g} s ({exc})")
            else:
                message = f"door action {config.kind} failed: {exc}"
            return ActionResult(False, message=message, seconds=time.monotonic() - start)
        return ActionResult(True, message=message, seconds=time.monotonic() - start)

    # -- the kinds: each gets the monotonic deadline of the whole action --------------------

    def _command(self, body: dict, deadline: float) -> str:
        args = shlex.split(self.config.target)
        env = {"FACELENS_PERSON": body["person"], "FACELENS_EVENT": json.dumps(body)}
        # Output goes to a file, not a pipe: a child the command leaves running keeps a pipe
        # open, and reading it to the end would wait for that child.
        with tempfile.TemporaryFile() as out:
            proc = subprocess.Popen(args, env={**os.environ, **env}, stdin=subprocess.DEVNULL,
                                    stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
            try:
                code = proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                raise ActionTimeout(f"{args[0]} still running") from None
            out.seek(0)
            tail = out.read()[-200:].decode(errors="replace").strip()
        if code != 0:
            raise RuntimeError(f"exit status {code}: {tail}")
        return f"command ran: {args[0]}"

    def _http(self, body: dict, deadline: float) -> str:
        url = urllib.parse.urlsplit(self.config.target)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {self.config.target!r}")
        kind = http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        conn = kind(url.hostname, url.port, timeout=max(0.01, deadline - time.monotonic()))
        # socket timeouts bound each read only: at the deadline the socket is shut down, so a
        # server trickling its answer byte by byte cannot hold the action longer
        timer = threading.Timer(max(0.0, deadline - time.monotonic()), _shutdown, (conn,))
        timer.start()
        try:
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
            conn.request("POST", path, body=json.dumps(body).encode(),
                         headers={"Content-Type": "application/json",
                                  "User-Agent": "FaceLens-kiosk"})
            resp = conn.getresponse()
            resp.read(65536)
            status = resp.status
        except (OSError, http.client.HTTPException) as exc:
            if time.monotonic() >= deadline:
                raise ActionTimeout(f"{url.hostname} answered too slowly") from None
            raise RuntimeError(str(exc) or type(exc).__name__) from None
        finally:
            timer.cancel()
            conn.close()
        if time.monotonic() >= deadline:
            raise ActionTimeout(f"{url.hostname} answered too slowly")
        if not 200 <= status < 300:
            raise RuntimeError(f"HTTP {status}")
        return f"HTTP {status}"

    def _serial(self, body: dict, deadline: float) -> str:
        # The device's speed and framing are set outside FaceLens (e.g. `stty -F DEV 9600`).
        line = f"OPEN {body['person']}\n".encode()
        target = self.config.target
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOCTTY", 0) \
            | getattr(os, "O_NONBLOCK", 0)  # opening a FIFO nobody reads would block
        try:
            fd = os.open(target, flags, 0o600)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                raise RuntimeError(f"nobody reads {target} (device not ready)") from None
            raise
        try:
            sent = 0
            while sent < len(line):
                left = deadline - time.monotonic()
                if left <= 0 or not _writable(fd, left):
                    raise ActionTimeout(f"{target} took {sent} of {len(line)} bytes")
                try:
                    sent += os.write(fd, line[sent:])
                except BlockingIOError:
                    continue
        finally:
            os.close(fd)
        return f"wrote {line.strip().decode()!r} to {target}"


def _within(timeout_s: float, runner: Callable[[float], str]) -> str:
    """`runner(deadline)` on a thread of its own; ActionTimeout when it is not back in time.

    The runners stop themselves at the deadline; this backstop covers what they cannot
    interrupt (a name lookup, a blocking device write): such a thread is left to finish.
    """
    deadline = time.monotonic() + timeout_s
    result: dict = {}

    def target() -> None:
        try:
            result["value"] = runner(deadline)
        except BaseException as exc:  # handed to the caller below
            result["error"] = exc

    thread = threading.Thread(target=target, name="door-action", daemon=True)
    thread.start()
    thread.join(timeout_s + GRACE_S)
    if thread.is_alive():
        raise ActionTimeout("the action is still running")
    if "error" in result:
        raise result["error"]
    return result["value"]


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)  # the command and what it started
        else:
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _shutdown(conn: http.client.HTTPConnection) -> None:
    sock = conn.sock
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _writable(fd: int, timeout_s: float) -> bool:
    import select

    if not hasattr(select, "poll"):
        return True  # no poll (Windows): the write blocks; `_within` keeps the deadline
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return bool(poller.poll(timeout_s * 1000))
