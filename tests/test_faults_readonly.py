"""A read-only data folder (a tmpfs remounted ``ro``): reading commands work, writing ones say
the folder is read-only (never ``OSError: [Errno 30]``) and change nothing."""

from __future__ import annotations

import json

import cv2
import pytest

from facelens.attendance import AttendanceStore
from facelens.attendance.store import AttendanceFault
from facelens.cli import main
from facelens.gallery import Gallery, default_db_path
from facelens.kiosk.audit import AuditFault, AuditLog, AuditRow
from facelens.kiosk.config import KioskConfig
from fault_media import remount, small_tmpfs

READ_ONLY = "read-only"


@pytest.fixture(scope="module")
def ro_home(tmp_path_factory, engine, faces_dev):
    """A data folder with two people, kiosk settings, an audit row and an attendance entry,
    on a tmpfs then remounted read-only."""
    with small_tmpfs(tmp_path_factory.mktemp("ro") / "disk", "20m") as home:
        people = faces_dev / "people"
        with Gallery.open(default_db_path(home), engine.model_id, engine.dim) as g:
            for name, photo in (("john_savage", "1.jpg"), ("bbt_amy", "1.png")):
                face = engine.analyze_photo(cv2.imread(str(people / name / photo)))[0]
                g.enrol(name, face.embedding[None])
        KioskConfig.update(home, {"frames": 4})
        audit = AuditLog(home / "kiosk_audit.db")
        audit.append(AuditRow("identify", True, "recognised", matched="bbt_amy"))
        audit.close()
        store = AttendanceStore(home / "attendance.db")
        store.log("bbt_amy", 0.8)
        store.close()
        remount(home, "ro")
        yield home
        remount(home, "rw")


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_folder_really_is_read_only(ro_home):
    with pytest.raises(OSError, match="Read-only file system"):
        (ro_home / "probe").write_text("x")


def test_reading_commands_work(ro_home, capsys, faces_dev):
    photo = str(faces_dev / "people" / "john_savage" / "2.jpg")
    reads = {
        "identify": (["identify", "--json", photo], lambda out: json.loads(out)["faces"][0]
                     ["name"] == "john_savage"),
        "verify": (["verify", "--json", "john_savage", photo],
                   lambda out: json.loads(out)["match"] is True),
        "people": (["people"], lambda out: "bbt_amy" in out and "john_savage" in out),
        "gallery status": (["gallery", "status"], lambda out: "not encrypted" in out),
        "kiosk audit": (["kiosk", "audit"], lambda out: "bbt_amy" in out),
        "attendance report": (["attendance", "report"], lambda out: "bbt_amy" in out),
        "kiosk config (show)": (["kiosk", "config"], lambda out: "frames = 4" in out),
    }
    for what, (argv, ok) in reads.items():
        code, out, err = _cli(capsys, "--home", str(ro_home), *argv)
        assert code == 0, (what, err)
        assert ok(out), (what, out)


WRITES = {
    "kiosk config": ["kiosk", "config", "--frames", "3"],
    "kiosk badge": ["kiosk", "badge", "12", "Ada"],
    "kiosk set-pin": ["kiosk", "set-pin", "--new-pin", "1234"],
    "enrol": ["enrol", "someone", "PHOTO"],
    "remove": ["remove", "bbt_amy"],
    "rename": ["rename", "bbt_amy", "amy"],
}


@pytest.mark.parametrize("argv", WRITES.values(), ids=WRITES.keys())
def test_writing_commands_say_read_only(ro_home, capsys, faces_dev, argv):
    photo = str(faces_dev / "people" / "bbt_amy" / "1.png")
    before = {p.name: p.read_bytes() for p in ro_home.iterdir()}
    code, _, err = _cli(capsys, "--home", str(ro_home), *[photo if a == "PHOTO" else a
                                                          for a in argv])
    assert code != 0
    assert READ_ONLY in err and "Errno 30" not in err and "Traceback" not in err, err
    assert {p.name: p.read_bytes() for p in ro_home.iterdir()} == before


def test_logs_refuse_writes_clearly(ro_home):
    audit = AuditLog(ro_home / "kiosk_audit.db")
    with pytest.raises(AuditFault, match=READ_ONLY):
        audit.append(AuditRow("identify", False, "x"))
    assert len(audit.recent()) == 1
    store = AttendanceStore(ro_home / "attendance.db")
    with pytest.raises(AttendanceFault, match=READ_ONLY):
        store.log("john_savage", 0.9)
    fresh = AttendanceStore(ro_home / "no_such.db")  # no file: an empty, read-only log
    assert fresh.entries() == []
    with pytest.raises(AttendanceFault, match=READ_ONLY):
        fresh.log("john_savage", 0.9)
