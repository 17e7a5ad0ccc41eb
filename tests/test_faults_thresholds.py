"""Thresholds (issue 14 item 9): refused out of range, a way back to the pack's default, one
rule for the threshold in force, and the kiosk never copies the app's threshold into kiosk.json.
"""

from __future__ import annotations

import json

import pytest

from facelens.cli import main
from facelens.config_schema import ConfigError
from facelens.kiosk.config import KioskConfig
from facelens.settings import Settings
from facelens.thresholds import ThresholdError, check_threshold, resolve_threshold


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("value", ["-1", "5", "0", "nan", "inf", "abc", "1.01"])
def test_kiosk_config_refuses_threshold(tmp_path, capsys, value):
    code, _, err = _run(capsys, "--home", str(tmp_path), "kiosk", "config",
                        "--threshold", value)
    assert code == 2 and "--threshold" in err and "Traceback" not in err
    assert "use a cosine similarity from 0.05 to 1.0" in err
    assert not (tmp_path / "kiosk.json").exists()


def test_kiosk_config_threshold_back_to_default(tmp_path, capsys):
    assert _run(capsys, "--home", str(tmp_path), "kiosk", "config", "--threshold", "0.6")[0] == 0
    assert KioskConfig.load(tmp_path).threshold == 0.6
    code, out, _ = _run(capsys, "--home", str(tmp_path), "kiosk", "config", "--json",
                        "--threshold", "default")
    assert code == 0 and json.loads(out)["threshold"] is None
    assert KioskConfig.load(tmp_path).threshold is None


def test_one_rule_for_the_threshold_in_force():
    s, k = Settings(threshold=0.45), KioskConfig(threshold=0.7)
    assert resolve_threshold(0.5) == 0.5
    assert resolve_threshold(0.5, settings=s) == 0.45
    assert resolve_threshold(0.5, settings=s, kiosk=KioskConfig()) == 0.45
    assert resolve_threshold(0.5, settings=s, kiosk=k) == 0.7
    assert resolve_threshold(0.5, settings=s, kiosk=k, override=0.3) == 0.3
    assert s.match_threshold(0.5) == 0.45
    for bad in (-1, 5, float("nan"), True, "x"):
        with pytest.raises(ThresholdError):
            check_threshold(bad)
        with pytest.raises(ThresholdError):
            resolve_threshold(0.5, override=bad)
    for bad in (-1, 5):
        with pytest.raises(ConfigError):
            Settings(threshold=bad)
        with pytest.raises(ConfigError):
            KioskConfig(threshold=bad)


def test_identify_refuses_override(tmp_path, capsys, faces_dev):
    photo = next((faces_dev / "people").glob("*/1.*"))
    code, _, err = _run(capsys, "--home", str(tmp_path), "identify", str(photo),
                        "--threshold", "-1")
    assert code == 2 and "--threshold: -1" in err and "Traceback" not in err


def test_kiosk_keeps_the_apps_threshold_out_of_kiosk_json(qtbot, engine, tmp_path):
    from facelens.app.kiosk_window import KioskWindow, SettingsDialog
    from facelens.kiosk.factory import open_station
    from facelens.kiosk.pin import AdminPin

    Settings(threshold=0.62).save(tmp_path)
    station = open_station(tmp_path, engine=engine)
    assert station.threshold == pytest.approx(0.62)  # the app's threshold is in force
    assert station.config.threshold is None  # ... but not copied into the kiosk's config
    pin = AdminPin(tmp_path)
    pin.set("1234")
    window = KioskWindow(station, pin, home=tmp_path)
    qtbot.addWidget(window)
    window.unlock()
    dialog = SettingsDialog(station.config, window)  # the admin changes frames only
    dialog.frames.setValue(4)
    assert window.apply_settings(dialog.changes()), window.admin_note.text()
    saved = json.loads((tmp_path / "kiosk.json").read_text())
    assert saved["frames"] == 4 and saved["threshold"] is None
    assert station.threshold == pytest.approx(0.62)
    Settings(threshold=0.55).save(tmp_path)  # the app's setting changes later: it applies
    assert open_station(tmp_path, engine=engine).threshold == pytest.approx(0.55)
    station.gallery.close()
