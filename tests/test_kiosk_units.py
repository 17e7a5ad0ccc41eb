"""Kiosk building blocks without networks: PIN, encryption, door actions, audit, policy."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pytest

from facelens.crypto import CryptoError, Sealer, new_salt
from facelens.kiosk.actions import ActionConfig, DoorAction
from facelens.kiosk.audit import AuditLog, AuditRow
from facelens.kiosk.config import KioskConfig, KioskConfigError
from facelens.kiosk.pin import AdminPin, PinError, delay_after
from facelens.kiosk.policy import DecisionPolicy, Reading, Status

# -- admin PIN -----------------------------------------------------------------------------


def test_wrong_pin_does_not_unlock_and_delay_grows(tmp_path):
    now = [1000.0]
    pin = AdminPin(tmp_path, clock=lambda: now[0])
    pin.set("4711")
    stored = (tmp_path / "admin_pin.json").read_text()
    assert "4711" not in stored and json.loads(stored)["hash"]
    assert pin.check("4711").ok
    waits = []
    for _ in range(5):
        r = pin.check("0000")
        assert not r.ok
        waits.append(r.wait_s)
        now[0] += r.wait_s  # wait out the delay before the next try
    assert waits == [0, 1, 2, 4, 8]
    r = pin.check("4711")  # the right PIN is still refused while a delay runs...
    assert r.ok  # ...but here the test has waited it out
    pin.check("1")
    pin.check("2")
    blocked = pin.check("3")  # third wrong try: a 1 s delay starts
    assert not blocked.ok and blocked.wait_s == 1
    assert not pin.check("4711").ok  # refused without checking during the delay
    assert AdminPin(tmp_path, clock=lambda: now[0]).check("4711").wait_s > 0  # survives restart
    assert delay_after(40) == 300


def test_pin_rules(tmp_path):
    with pytest.raises(PinError):
        AdminPin(tmp_path).set("12")
    with pytest.raises(PinError, match="set-pin"):
        AdminPin(tmp_path).check("1234")


# -- encryption at rest --------------------------------------------------------------------


def test_sealer_roundtrip_and_wrong_passphrase():
    salt = new_salt()
    s = Sealer("correct horse", salt)
    tpl = np.random.default_rng(0).normal(size=(3, 192)).astype(np.float32)
    blob = s.seal_array(tpl, b"person:7")
    assert tpl.tobytes() not in blob
    assert np.array_equal(Sealer("correct horse", salt).open_array(blob, b"person:7"), tpl)
    with pytest.raises(CryptoError):
        Sealer("wrong", salt).open_array(blob, b"person:7")
    with pytest.raises(CryptoError):
        s.open_array(blob, b"person:8")  # moved to another row
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(CryptoError):
        s.open(tampered)
    with pytest.raises(CryptoError):
        Sealer("wrong", salt).verify(s.check_value())


# -- door actions --------------------------------------------------------------------------


class _Recorder(BaseHTTPRequestHandler):
    received: list = []
    status = 200

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((self.path, self.headers["Content-Type"], json.loads(body)))
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_door():
    _Recorder.received = []
    _Recorder.status = 200
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/door", _Recorder
    server.shutdown()
    server.server_close()


def test_http_action_once_per_cooldown(http_door):
    url, rec = http_door
    t = [0.0]
    door = DoorAction(ActionConfig("http", url, cooldown_s=10), clock=lambda: t[0])
    assert door.fire("amy", {"similarity": 0.71}).ok
    t[0] = 5
    assert door.fire("amy").skipped  # in cooldown
    assert door.fire("raj").ok  # another person has their own cooldown
    t[0] = 10.5
    assert door.fire("amy").ok
    assert [(p, c, b["person"]) for p, c, b in rec.received] == [
        ("/door", "application/json", "amy"), ("/door", "application/json", "raj"),
        ("/door", "application/json", "amy")]
    assert rec.received[0][2]["event"] == "granted" and rec.received[0][2]["similarity"] == 0.71


def test_http_action_failure_is_reported(http_door):
    url, rec = http_door
    rec.status = 500
    r = DoorAction(ActionConfig("http", url)).fire("amy")
    assert not r.ok and "500" in r.message
    r = DoorAction(ActionConfig("http", "http://127.0.0.1:9/none", timeout_s=1)).fire("amy")
    assert not r.ok and "failed" in r.message


def test_command_and_serial_actions(tmp_path):
    out = tmp_path / "opened.txt"
    cmd = DoorAction(ActionConfig("command", f"sh -c 'echo $FACELENS_PERSON >> {out}'"))
    assert cmd.fire("amy").ok and out.read_text() == "amy\n"
    bad = DoorAction(ActionConfig("command", "sh -c 'echo relay jammed >&2; exit 3'"))
    r = bad.fire("amy")
    assert not r.ok and "relay jammed" in r.message
    dev = tmp_path / "ttyFAKE"
    assert DoorAction(ActionConfig("serial", str(dev))).fire("amy").ok
    assert dev.read_text() == "OPEN amy\n"
    r = DoorAction(ActionConfig("serial", str(tmp_path / "no" / "tty"))).fire("amy")
    assert not r.ok


# -- audit ---------------------------------------------------------------------------------


def test_audit_rows_and_sealed_thumbnail(tmp_path):
    sealer = Sealer("pass phrase", new_salt())
    log = AuditLog(tmp_path / "audit.db", sealer=sealer)
    log.append(AuditRow("identify", True, "recognised, live", matched="amy", similarity=0.7,
                        antispoof=0.01, temporal=0.5, thumbnail=b"\xff\xd8jpeg"))
    seq = log.append(AuditRow("verify", False, "not recognised", claimed="raj"))
    log.set_action(seq, "none")
    rows = log.recent()
    assert [r.seq for r in rows] == [seq, seq - 1]
    assert rows[1].granted and rows[1].matched == "amy" and rows[1].temporal == 0.5
    assert b"jpeg" not in rows[1].thumbnail and log.thumbnail(rows[1]) == b"\xff\xd8jpeg"
    assert not rows[0].granted and rows[0].claimed == "raj" and rows[0].action == "none"


# -- decision policy -----------------------------------------------------------------------


def _live(name="amy", temporal=0.5, spoof=0.01):
    return Reading(True, 150, 2000, True, name, 0.7, spoof, temporal)


def test_policy_needs_k_consecutive_agreeing_frames():
    p = DecisionPolicy(frames=3, hold_s=2)
    assert p.feed(Reading(False), 0)[0].text == "Look at the camera"
    assert p.feed(Reading(True, 40), 0)[0].status == Status.MOVE_CLOSER
    assert p.feed(_live(), 0.1)[1] is None
    assert p.feed(_live("raj"), 0.2)[1] is None  # a different person restarts the run
    assert p.feed(_live(), 0.3)[1] is None
    assert p.feed(_live(), 0.4)[0].status == Status.HOLD_STILL
    view, d = p.feed(_live(), 0.5)
    assert d.granted and view.text == "Welcome, amy" and view.colour == "green"
    assert p.feed(Reading(False), 1.0)[0].text == "Welcome, amy"  # held on screen
    assert p.feed(Reading(False), 3.0)[0].status == Status.LOOK


def test_policy_refuses_unknown_spoof_and_still_photo():
    p = DecisionPolicy(frames=2, hold_s=0)
    p.feed(_live(None), 0)
    view, d = p.feed(_live(None), 0)
    assert not d.granted and view.text == "Not recognised" and view.colour == "red"
    p.feed(_live(spoof=0.9), 1)
    assert "anti-spoofing" in p.feed(_live(spoof=0.9), 1)[1].reason
    p.feed(_live(temporal=0.001), 2)
    assert "temporal" in p.feed(_live(temporal=0.001), 2)[1].reason
    p.feed(_live(temporal=None), 3)
    assert p.feed(_live(temporal=None), 3)[1] is None  # waits for the temporal volume
    blurred = Reading(True, 150, 10, False)
    view = p.feed(blurred, 4)[0]
    assert view.text == "Move closer / more light" and view.colour == "amber"


def test_policy_verify_needs_a_claim():
    p = DecisionPolicy(policy="verify", frames=1)
    assert "badge" in p.feed(_live(), 0)[0].text
    d = p.feed(_live(None), 0, claimed="amy")[1]
    assert not d.granted and "claimed" in d.reason


def test_config_roundtrip_and_validation(tmp_path):
    c = KioskConfig(policy="verify", action_kind="http", action_target="http://x/door",
                    badges={"0042": "amy"})
    c.save(tmp_path)
    back = KioskConfig.load(tmp_path)
    assert back == c and back.resolve_claim(" 0042\n") == "amy"
    assert back.resolve_claim("raj") == "raj"
    with pytest.raises(KioskConfigError):
        KioskConfig(policy="everyone")
    with pytest.raises(KioskConfigError):
        KioskConfig(action_kind="http")
