"""The kiosk admin and attendance commands, through `facelens.cli.main`."""

from __future__ import annotations

import csv
import json
import time
from datetime import datetime

from facelens.attendance import AttendanceStore
from facelens.cli import main
from facelens.kiosk.audit import AuditLog, AuditRow


def _json_lines(capsys) -> list[dict]:
    return [json.loads(x) for x in capsys.readouterr().out.splitlines() if x.strip()]


def test_pin_guards_settings(tmp_path, capsys):
    home = ["--home", str(tmp_path)]
    assert main(home + ["kiosk", "set-pin", "--new-pin", "2468", "--json"]) == 0
    assert main(home + ["kiosk", "set-pin", "--old-pin", "1111", "--new-pin", "1357"]) == 2
    assert main(home + ["kiosk", "config", "--policy", "verify", "--pin", "9999"]) == 2
    assert main(home + ["kiosk", "config", "--json"]) == 0  # showing needs no PIN
    assert main(home + ["kiosk", "config", "--policy", "verify", "--pin", "2468"]) == 2
    assert "wait 1 s" in capsys.readouterr().err  # right PIN, but two wrong tries before it
    time.sleep(1.05)
    assert main(home + ["kiosk", "config", "--pin", "2468", "--policy", "verify",
                        "--action-http", "http://127.0.0.1:8080/door", "--cooldown", "15",
                        "--json"]) == 0
    cfg = _json_lines(capsys)[-1]
    assert cfg["policy"] == "verify" and cfg["action_kind"] == "http"
    assert cfg["action_cooldown_s"] == 15 and cfg["thumbnails"] is False
    assert main(home + ["kiosk", "badge", "0042", "bbt_amy", "--pin", "2468"]) == 0
    assert json.loads((tmp_path / "kiosk.json").read_text())["badges"] == {"0042": "bbt_amy"}
    assert main(home + ["kiosk", "config", "--pin", "2468", "--action-http", ""]) == 2


def test_audit_listing(tmp_path, capsys):
    log = AuditLog(tmp_path / "kiosk_audit.db")
    log.append(AuditRow("identify", True, "recognised, live", matched="raj", similarity=0.8,
                        antispoof=0.01, temporal=0.6))
    log.append(AuditRow("identify", False, "not recognised", similarity=0.2))
    assert main(["--home", str(tmp_path), "kiosk", "audit", "--json"]) == 0
    rows = _json_lines(capsys)
    assert [r["granted"] for r in rows] == [True, False] and rows[0]["matched"] == "raj"


def test_attendance_export_and_report(tmp_path, capsys):
    day = datetime(2026, 4, 1, 9, 0).astimezone()
    st = AttendanceStore(tmp_path / "attendance.db", window_s=0, wallclock=lambda: day)
    st.log("amy", 0.7)
    st.log("amy", 0.7)
    st.log(None)
    out = tmp_path / "out.csv"
    args = ["--home", str(tmp_path), "attendance", "export", "--from", "2026-04-01",
            "--to", "2026-04-01", str(out), "--json"]
    assert main(args) == 0
    assert _json_lines(capsys)[0]["rows"] == 1
    rows = list(csv.DictReader(out.open()))
    assert rows[0]["person"] == "amy" and rows[0]["entries"] == "2"
    assert main(["--home", str(tmp_path), "attendance", "export", "--from", "2026-04-02",
                 "--to", "2026-04-01", str(out)]) == 2
    assert main(["--home", str(tmp_path), "attendance", "report", "--json"]) == 0
    lines = _json_lines(capsys)
    assert lines[0]["person"] == "amy" and lines[1] == {"day": "2026-04-01", "unknown_faces": 1}


def test_kiosk_will_not_start_without_a_pin(tmp_path, capsys):
    assert main(["--home", str(tmp_path), "kiosk", "--windowed"]) == 2
    assert "set-pin" in capsys.readouterr().err


def test_set_passphrase_then_wrong_one_is_refused(tmp_path, monkeypatch, capsys):
    import io

    import pytest

    from facelens.crypto import CryptoError
    from facelens.kiosk.config import KioskConfig
    from facelens.kiosk.factory import sealer_for

    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
    assert main(["--home", str(tmp_path), "kiosk", "set-passphrase"]) == 0
    cfg = KioskConfig.load(tmp_path)
    assert cfg.encryption_salt and "a long passphrase" not in (tmp_path / "kiosk.json").read_text()
    sealer = sealer_for(cfg, "a long passphrase")
    assert sealer.open(sealer.seal(b"thumb")) == b"thumb"
    with pytest.raises(CryptoError):
        sealer_for(cfg, "guess")
    monkeypatch.delenv("FACELENS_PASSPHRASE", raising=False)
    with pytest.raises(CryptoError, match="FACELENS_PASSPHRASE"):
        sealer_for(cfg, None)
