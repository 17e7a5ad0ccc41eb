"""A full disk (a 2 MB tmpfs filled to the last byte): every write path says "disk full:
nothing was changed" and leaves the old file (or database rows) in place."""

from __future__ import annotations

import json

import pytest

from facelens.atomic_write import DiskFullError
from facelens.attendance import AttendanceStore
from facelens.attendance.store import AttendanceFault
from facelens.cli import main
from facelens.kiosk.audit import AuditFault, AuditLog, AuditRow
from facelens.kiosk.config import KioskConfig
from facelens.kiosk.pin import AdminPin
from facelens.settings import Settings
from fault_media import fill, small_tmpfs

FULL = "disk full: nothing was changed"


@pytest.fixture(params=["no PIN"])
def full_home(tmp_path, request):
    """A data folder with settings, kiosk config, audit and attendance (and a PIN with the
    param "PIN"); then a full disk. Yields (home, snapshot of the JSON files, open audit log,
    open attendance store)."""
    with small_tmpfs(tmp_path / "disk") as home:
        Settings(threshold=0.55).save(home)
        KioskConfig.update(home, {"frames": 4, "badges": {"7": "Ada"}})
        if request.param == "PIN":
            AdminPin(home).set("1234")
        audit = AuditLog(home / "kiosk_audit.db")
        audit.append(AuditRow("identify", True, "ok", matched="Ada"))
        attendance = AttendanceStore(home / "attendance.db")
        attendance.log("Ada", 0.8)
        snapshot = {p.name: p.read_bytes() for p in home.glob("*.json")}
        fill(home)
        yield home, snapshot, audit, attendance
        audit.close()
        attendance.close()


def _cli(capsys, *argv: str) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def _unchanged(home, snapshot) -> None:
    assert {p.name: p.read_bytes() for p in home.glob("*.json")} == snapshot
    assert not [p.name for p in home.iterdir() if p.name.endswith(".tmp")]


COMMANDS = {  # without a PIN set: each reaches its own write (kiosk.json, admin_pin.json)
    "kiosk config": ["kiosk", "config", "--frames", "3"],
    "kiosk config --threshold": ["kiosk", "config", "--threshold", "0.7"],
    "kiosk config --action-http": ["kiosk", "config", "--action-http", "http://door/open"],
    "kiosk set-pin (first)": ["kiosk", "set-pin", "--new-pin", "567890"],
    "kiosk badge": ["kiosk", "badge", "99", "Bob"],
    "kiosk badge removal": ["kiosk", "badge", "7"],
}
PIN_COMMANDS = {  # with a PIN: the check's own bookkeeping write comes first
    "kiosk set-pin (change)": ["kiosk", "set-pin", "--old-pin", "1234", "--new-pin", "567890"],
    "kiosk config --pin": ["kiosk", "config", "--frames", "3", "--pin", "1234"],
    "kiosk badge --pin": ["kiosk", "badge", "99", "Bob", "--pin", "1234"],
}


@pytest.mark.parametrize("argv", COMMANDS.values(), ids=COMMANDS.keys())
def test_full_disk_commands_change_nothing(full_home, capsys, argv):
    home, snapshot, _, _ = full_home
    code, err = _cli(capsys, "--home", str(home), *argv)
    assert code == 2, err
    assert FULL in err and "Traceback" not in err and "Errno" not in err
    _unchanged(home, snapshot)


@pytest.mark.parametrize("full_home", ["PIN"], indirect=True)
@pytest.mark.parametrize("argv", PIN_COMMANDS.values(), ids=PIN_COMMANDS.keys())
def test_full_disk_pin_commands_change_nothing(full_home, capsys, argv):
    home, snapshot, _, _ = full_home
    code, err = _cli(capsys, "--home", str(home), *argv)
    assert code == 2, err
    assert FULL in err and "Traceback" not in err and "Errno" not in err
    _unchanged(home, snapshot)


def test_full_disk_settings_save(full_home):
    home, snapshot, _, _ = full_home
    with pytest.raises(DiskFullError, match=FULL):
        Settings(threshold=0.7, min_face=60).save(home)
    _unchanged(home, snapshot)
    assert Settings.load(home).threshold == 0.55


def test_full_disk_audit_and_attendance_keep_their_rows(full_home):
    home, _, audit, attendance = full_home
    big = "x" * 200_000  # more than a page: needs new space in the WAL
    with pytest.raises(AuditFault, match=FULL):
        audit.append(AuditRow("identify", False, big))
    with pytest.raises(AttendanceFault, match=FULL):
        attendance.log("Bob" + big, 0.9)
    assert [r.matched for r in audit.recent()] == ["Ada"]
    assert [e.person for e in attendance.entries()] == ["Ada"]
    assert audit.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert attendance.integrity_ok()


@pytest.mark.parametrize("full_home", ["PIN"], indirect=True)
def test_full_disk_pin_check_keeps_the_old_state(full_home):
    """A PIN check records wrong tries; on a full disk it says so and the old state stays."""
    home, snapshot, _, _ = full_home
    with pytest.raises(DiskFullError, match=FULL):
        AdminPin(home).check("0000")
    _unchanged(home, snapshot)
    assert json.loads(snapshot["admin_pin.json"])["failures"] == 0


def test_full_disk_enrol_keeps_the_gallery(tmp_path, capsys, engine, faces_dev):
    import cv2

    from facelens.gallery import Gallery, default_db_path

    people = faces_dev / "people"
    with small_tmpfs(tmp_path / "disk") as home:
        with Gallery.open(default_db_path(home), engine.model_id, engine.dim) as g:
            face = engine.analyze_photo(cv2.imread(str(people / "bbt_amy" / "1.png")))[0]
            g.enrol("bbt_amy", face.embedding[None], thumbnails=[b"x" * 1000])
        filler = fill(home)
        photos = [str(p) for p in sorted((people / "john_savage").glob("*.jpg"))]
        code, err = _cli(capsys, "--home", str(home), "enrol", "john_savage", *photos)
        assert code != 0 and "disk full: nothing was changed" in err, err
        assert "Traceback" not in err
        code, err = _cli(capsys, "--home", str(home), "people")  # reading: says why if not
        assert code == 0 or "disk full" in err, err
        filler.unlink()  # space again: the gallery is as it was
        with Gallery.open(default_db_path(home), engine.model_id, engine.dim) as g:
            assert [p.name for p in g.people()] == ["bbt_amy"]
