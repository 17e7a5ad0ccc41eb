"""Issue 15.5 and 15.8: door actions have a hard deadline, run on the station's door worker
(never where the decision is made), and a command is judged by its own exit status."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from facelens.attendance import AttendanceStore
from facelens.kiosk.actions import ActionConfig, DoorAction
from facelens.kiosk.audit import AuditLog
from facelens.kiosk.config import KioskConfig
from facelens.kiosk.policy import Status
from facelens.kiosk.station import KioskStation
from kiosk_support import SAVAGE_LIVE, SIMM_LIVE, enrolled_gallery, living_stand_in

ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class TricklingDoor:
    """An HTTP door controller on 127.0.0.1 that answers one byte every `gap_s` seconds."""

    def __init__(self, gap_s: float = 0.3):  # 40 bytes: 12 s at the default
        self.gap_s = gap_s
        self.stop = threading.Event()
        self.requests = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/open"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.recv(65536)  # the POST (small: one read holds it)
            self.requests += 1
            for byte in ANSWER:
                if self.stop.wait(self.gap_s):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return  # the kiosk gave up and closed

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


@pytest.fixture
def trickling():
    door = TricklingDoor()
    yield door
    door.close()


def _fire_in_thread(door: DoorAction, limit_s: float):
    """fire() on a thread, so that a door that blocks forever fails the test, not hangs it."""
    box: dict = {}
    t0 = time.monotonic()
    thread = threading.Thread(target=lambda: box.update(r=door.fire("amy")), daemon=True)
    thread.start()
    thread.join(limit_s)
    return box.get("r"), time.monotonic() - t0


def test_http_that_trickles_fails_at_the_deadline(trickling):
    r, took = _fire_in_thread(DoorAction(ActionConfig("http", trickling.url, timeout_s=1.0)), 8)
    assert r is not None, f"the HTTP action was still running after {took:.1f} s"
    assert not r.ok and "timed out" in r.message and "1 s" in r.message
    assert took < 1.0 + 1.0  # the deadline holds for the whole answer, not for each read
    assert trickling.requests == 1


def test_serial_fifo_nobody_reads_fails_at_once(tmp_path):
    fifo = tmp_path / "door.fifo"
    os.mkfifo(fifo)
    r, took = _fire_in_thread(DoorAction(ActionConfig("serial", str(fifo), timeout_s=1.0)), 5)
    assert r is not None, "opening a FIFO nobody reads blocked the action"
    assert not r.ok and "nobody reads" in r.message and took < 1.0


def test_serial_device_that_stops_taking_bytes_times_out(tmp_path):
    fifo = tmp_path / "door.fifo"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # opened, never read
    filler = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    try:
        while True:  # fill the pipe: the next write would block
            try:
                os.write(filler, b"x" * 4096)
            except BlockingIOError:
                break
        r, took = _fire_in_thread(DoorAction(ActionConfig("serial", str(fifo), timeout_s=1.0)),
                                  5)
        assert r is not None and not r.ok and "timed out" in r.message
        assert 0.9 <= took < 2.0
    finally:
        os.close(filler)
        os.close(reader)


def test_command_that_leaves_a_background_child_is_judged_by_its_exit_status(tmp_path):
    out = tmp_path / "relay.txt"
    cmd = f"sh -c 'echo on > {out}; (sleep 20; echo late >> {out}) & exit 0'"
    r, took = _fire_in_thread(DoorAction(ActionConfig("command", cmd, timeout_s=3.0)), 10)
    assert r is not None and r.ok, r
    assert took < 2.0 and out.read_text() == "on\n"  # not waited for the child
    bad = "sh -c 'sleep 20 & echo relay jammed; exit 4'"
    r, took = _fire_in_thread(DoorAction(ActionConfig("command", bad, timeout_s=3.0)), 10)
    assert r is not None and not r.ok and "exit status 4" in r.message
    assert "relay jammed" in r.message and took < 2.0


def test_command_that_hangs_is_killed_at_the_deadline(tmp_path):
    pid_file = tmp_path / "pid"
    cmd = f"sh -c 'echo $$ > {pid_file}; sleep 30'"
    r, took = _fire_in_thread(DoorAction(ActionConfig("command", cmd, timeout_s=1.0)), 10)
    assert r is not None and not r.ok and "timed out" in r.message and took < 2.0
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the command (and its group) were ended, not left running


# -- the station: a slow door never holds a decision ------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_slow_door_does_not_hold_decisions_or_the_next_person(engine, faces_dev, tmp_path):
    gallery = enrolled_gallery(engine, faces_dev, tmp_path / "gallery.db")
    held = TricklingDoor(gap_s=5.0)  # 200 s for its answer: held until the test closes it
    config = KioskConfig(min_sharpness=0, min_face_px=60, hold_s=2.0, action_kind="http",
                         action_target=held.url, action_timeout_s=120.0)
    st = KioskStation(engine, gallery, config, AuditLog(tmp_path / "audit.db"),
                      AttendanceStore(tmp_path / "attendance.db"), clock=Clock())
    waits: list[float] = []  # every process() call
    deciding: list[float] = []  # the calls that concluded a decision (and handed the door)

    def run(frames):
        for f in frames:
            st.clock.t += 0.1
            t0 = time.monotonic()
            view = st.process(f)
            waits.append(time.monotonic() - t0)
            if view.status in (Status.GRANTED, Status.REFUSED):
                deciding.append(waits[-1])
                return view
        return view

    held_since = time.monotonic()
    try:
        first = run(living_stand_in(faces_dev, "john_savage", SAVAGE_LIVE))
        assert first.status == Status.GRANTED
        assert "running" in st.audit.recent()[0].action  # handed to the door worker
        st.clock.t += config.hold_s + 0.1
        second = run(living_stand_in(faces_dev, "john_simm", SIMM_LIVE))
        assert second.status == Status.GRANTED and second.name == "john_simm"
        rows = st.audit.recent()  # recognised and logged while the first door still runs
        assert [(r.matched, r.action.split(":")[0]) for r in rows] == [
            ("john_simm", "running"), ("john_savage", "running")]
        # old code: the first decision's process() call waited for the whole door answer
        assert max(waits) < 30
    finally:
        held.close()  # the door controller goes away: both actions end, as failures
        held_s = time.monotonic() - held_since
    assert st.wait_door(30)
    assert all(r.action.startswith("FAILED: door action http failed")
               for r in st.audit.recent())

    # a door that trickles past its deadline: a timeout, in the audit log and on screen
    slow = TricklingDoor()
    try:
        st.door = DoorAction(ActionConfig("http", slow.url, timeout_s=1.0))
        st.clock.t += config.hold_s + 0.1
        third = run(living_stand_in(faces_dev, "john_savage", SAVAGE_LIVE, seed=1))
        assert third.status == Status.GRANTED and st.wait_door(10)
    finally:
        slow.close()
    row = st.audit.recent()[0]
    assert row.granted and row.action.startswith("FAILED: door action http timed out")
    assert "timed out" in st.fault and "timed out" in st.view.detail
    print(f"slow door: decision frames took {max(deciding) * 1000:.0f} ms at most "
          f"({len(deciding)} decisions), any frame {max(waits) * 1000:.0f} ms at most "
          f"({len(waits)} frames), while the door answer was held {held_s:.1f} s")
