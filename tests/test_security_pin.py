"""Issue 15.1 and 15.2: PIN tries counted one by one under concurrency; ASCII digits only."""

from __future__ import annotations

import fcntl
import json
import multiprocessing as mp
import os
import threading

import pytest

from facelens.cli import main
from facelens.kiosk.pin import FREE_TRIES, AdminPin, PinError, delay_after

WRONG = "0000"
RIGHT = "4711"


def _failures(home) -> int:
    return json.loads((home / "admin_pin.json").read_text())["failures"]


def _checked(results) -> int:
    """Tries whose PIN was really compared (the others were refused without checking)."""
    return sum(r[1].startswith("wrong PIN") for r in results)


def _guess(home: str, barrier, queue) -> None:
    barrier.wait()
    r = AdminPin(home).check(WRONG)
    queue.put((r.ok, r.message, r.wait_s))


@pytest.mark.parametrize("n", [7, 10])
def test_parallel_wrong_pins_in_processes_are_all_counted(tmp_path, n):
    AdminPin(tmp_path).set(RIGHT)
    ctx = mp.get_context("fork")
    barrier, queue = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_guess, args=(str(tmp_path), barrier, queue)) for _ in range(n)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert not any(ok for ok, _, _ in results)
    checked = _checked(results)
    print(f"{n} wrong PINs tried in parallel processes: {checked} checked and counted "
          f"(counter {_failures(tmp_path)}), {n - checked} refused without checking")
    assert checked >= 1
    assert _failures(tmp_path) == checked  # every checked try counted, none lost
    # a try refused while another was checked says how long to wait
    assert all(w > 0 for _, m, w in results if not m.startswith("wrong PIN"))


def test_parallel_wrong_pins_in_threads_are_all_counted(tmp_path):
    AdminPin(tmp_path).set(RIGHT)
    n = 10
    barrier, results, lock = threading.Barrier(n), [], threading.Lock()

    def guess() -> None:
        pin = AdminPin(tmp_path)  # the kiosk window and a CLI each have their own object
        barrier.wait()
        r = pin.check(WRONG)
        with lock:
            results.append((r.ok, r.message, r.wait_s))

    threads = [threading.Thread(target=guess) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == n and not any(ok for ok, _, _ in results)
    assert _failures(tmp_path) == _checked(results) >= 1


def test_a_try_while_another_is_checked_is_refused_unchecked(tmp_path):
    pin = AdminPin(tmp_path)
    pin.set(RIGHT)
    fd = os.open(tmp_path / "admin_pin.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # another process is checking a try
        r = pin.check(RIGHT)
        assert not r.ok and r.wait_s >= 1 and "being checked" in r.message
        with pytest.raises(PinError, match="being checked"):
            pin.set("9999")
    finally:
        os.close(fd)
    assert _failures(tmp_path) == 0 and pin.check(RIGHT).ok  # nothing counted, PIN unchanged


def test_sequential_schedule_is_kept(tmp_path):
    now = [1000.0]
    pin = AdminPin(tmp_path, clock=lambda: now[0])
    pin.set(RIGHT)
    waits, refused = [], 0
    for _ in range(20):
        r = pin.check(WRONG)
        if r.message.startswith("wrong PIN"):
            waits.append(r.wait_s)
        else:
            refused += 1
            assert r.wait_s > 0  # the seconds left, for the kiosk screen
        now[0] += 1.0  # one try a second
    # 1 s apart: after the 2nd wrong try each delay (1, 2, 4, 8 s) refuses the tries inside it
    assert waits == [delay_after(k) for k in range(1, len(waits) + 1)]
    assert waits[:5] == [0, 1, 2, 4, 8] and refused == 20 - len(waits)
    assert _failures(tmp_path) == len(waits) and FREE_TRIES == 2


# -- 15.2: what a PIN may be -----------------------------------------------------------------


@pytest.mark.parametrize("bad, why", [
    ("\uff11\uff12\uff13\uff14", "contains"),  # full-width digits: str.isdigit() is True
    ("\u0661\u0662\u0663\u0664", "contains"),  # Arabic-Indic digits
    ("12", "2 digits"),
    ("1234567890123", "13 digits"),
    ("12 34", "contains ' '"),
])
def test_pin_must_be_ascii_digits(tmp_path, bad, why):
    with pytest.raises(PinError, match=why) as err:
        AdminPin(tmp_path).set(bad)
    assert "ASCII digits (0-9)" in str(err.value) and "4 to 12" in str(err.value)
    assert not (tmp_path / "admin_pin.json").exists()


def test_set_pin_command_refuses_full_width_digits(tmp_path, capsys):
    code = main(["--home", str(tmp_path), "kiosk", "set-pin", "--new-pin",
                 "\uff11\uff12\uff13\uff14"])
    assert code == 2
    err = capsys.readouterr().err
    assert "admin PIN" in err and "ASCII digits (0-9)" in err
    assert not (tmp_path / "admin_pin.json").exists()
    assert main(["--home", str(tmp_path), "kiosk", "set-pin", "--new-pin", "123456"]) == 0
    # a typed full-width PIN is simply wrong (and counted), never equal to the ASCII one
    r = AdminPin(tmp_path).check("\uff11\uff12\uff13\uff14\uff15\uff16")
    assert not r.ok and _failures(tmp_path) == 1
