"""Damaged or odd settings.json, kiosk.json and admin_pin.json: one message per problem, in the
form "<file>: <field>: <what is wrong>; <what to do>", exit code 2, the file left as it was.

The commands run in-process through `facelens.cli.main` on a real data folder; the checks
under test run before any model loads.
"""

from __future__ import annotations

import json
import re
import resource

import pytest

from facelens.cli import main
from facelens.config_schema import ConfigError, reset_to_defaults
from facelens.errors import ModelPackError
from facelens.kiosk.config import KioskConfig
from facelens.kiosk.pin import AdminPin, PinFileError
from facelens.modelpack.pack import load_pack, source_manifest
from facelens.settings import Settings

LINE = re.compile(r"^(?P<file>\S+\.json): (?P<field>[\w, ()]+): (?P<wrong>[^;]+); (?P<todo>.+)$")

GOOD_PIN = None  # filled once: a valid admin_pin.json for PIN 1234


def _good_pin_state(tmp_path_factory) -> dict:
    global GOOD_PIN
    if GOOD_PIN is None:
        home = tmp_path_factory.mktemp("pin")
        AdminPin(home).set("1234")
        GOOD_PIN = json.loads((home / "admin_pin.json").read_text())
    return dict(GOOD_PIN)


def _run(capsys, *argv: str) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    return code, capsys.readouterr().err


def _problem_lines(err: str, name: str) -> list[dict]:
    """Each stderr line about `name` parsed as file/field/wrong/todo; fails on any other."""
    lines = [ln.removeprefix("facelens: error: ") for ln in err.strip().splitlines()]
    assert lines, "no message at all"
    parsed = []
    for ln in lines:
        m = LINE.match(ln)
        assert m, f"not '<file>: <field>: <what is wrong>; <what to do>': {ln!r}"
        assert m["file"].endswith(name), ln
        parsed.append(m.groupdict())
    return parsed


SETTINGS_BAD = {
    "a list": ("[1, 2]", ["(whole file)"]),
    "a string": ('"lite"', ["(whole file)"]),
    "null": ("null", ["(whole file)"]),
    "a number": ("3", ["(whole file)"]),
    "truncated JSON": ('{"threshold": 0.5', ["(whole file)"]),
    "not UTF-8": (b"\xff\xfe{\x00", ["(whole file)"]),
    "threshold text": ('{"threshold": "abc"}', ["threshold"]),
    "threshold list": ('{"threshold": [0.5]}', ["threshold"]),
    "threshold -1": ('{"threshold": -1}', ["threshold"]),
    "threshold 5": ('{"threshold": 5}', ["threshold"]),
    "threshold NaN": ('{"threshold": NaN}', ["threshold"]),
    "threshold true": ('{"threshold": true}', ["threshold"]),
    "provider gpu": ('{"provider": "gpu"}', ["provider"]),
    "pack relative path": ('{"model_pack": "../../../../elsewhere/evilpack"}', ["model_pack"]),
    "pack absolute path": ('{"model_pack": "/tmp/evilpack"}', ["model_pack"]),
    "pack unknown name": ('{"model_pack": "nosuchpack"}', ["model_pack"]),
    "pack not text": ('{"model_pack": 7}', ["model_pack"]),
    "min_face bool": ('{"min_face": true}', ["min_face"]),
    "min_face float": ('{"min_face": 40.5}', ["min_face"]),
    "detect_scale 0": ('{"detect_scale": 0}', ["detect_scale"]),
    "detect_every 0": ('{"detect_every": 0}', ["detect_every"]),
    "keep_thumbnails text": ('{"keep_thumbnails": "yes"}', ["keep_thumbnails"]),
    "attendance window negative": ('{"attendance_window_s": -5}', ["attendance_window_s"]),
    "three at once": ('{"threshold": "abc", "provider": "gpu", "min_face": null}',
                      ["threshold", "provider", "min_face"]),
}


@pytest.mark.parametrize("content,fields", SETTINGS_BAD.values(), ids=SETTINGS_BAD.keys())
def test_bad_settings_file_is_one_message_per_problem(tmp_path, capsys, content, fields):
    path = tmp_path / "settings.json"
    raw = content if isinstance(content, bytes) else content.encode()
    path.write_bytes(raw)
    code, err = _run(capsys, "--home", str(tmp_path), "people")
    assert code == 2, err
    assert "Traceback" not in err
    assert [p["field"] for p in _problem_lines(err, "settings.json")] == fields
    assert path.read_bytes() == raw  # left as it was
    with pytest.raises(ConfigError) as info:
        Settings.load(tmp_path)
    assert info.value.path == path and len(info.value.problems) == len(fields)


KIOSK_BAD = {
    "a list": ("[]", ["(whole file)"]),
    "null": ("null", ["(whole file)"]),
    "not JSON": ("frames = 5", ["(whole file)"]),
    "frames text": ('{"frames": "five"}', ["frames"]),
    "frames 0": ('{"frames": 0}', ["frames"]),
    "attendance_window text": ('{"attendance_window_s": "long"}', ["attendance_window_s"]),
    "policy unknown": ('{"policy": "everyone"}', ["policy"]),
    "threshold -1": ('{"threshold": -1}', ["threshold"]),
    "threshold 5": ('{"threshold": 5}', ["threshold"]),
    "badges a list": ('{"badges": ["1234"]}', ["badges"]),
    "badge to a number": ('{"badges": {"1234": 5}}', ["badges"]),
    "action kind unknown": ('{"action_kind": "laser"}', ["action_kind"]),
    "action without target": ('{"action_kind": "http"}', ["action_target"]),
    "salt not hex": ('{"encryption_salt": "xyz"}', ["encryption_salt"]),
    "thumbnails text": ('{"thumbnails": "off"}', ["thumbnails"]),
    "two at once": ('{"frames": "five", "hold_s": []}', ["frames", "hold_s"]),
}


@pytest.mark.parametrize("content,fields", KIOSK_BAD.values(), ids=KIOSK_BAD.keys())
def test_bad_kiosk_file_is_one_message_per_problem(tmp_path, capsys, content, fields):
    path = tmp_path / "kiosk.json"
    path.write_text(content)
    for argv in (["kiosk", "config"], ["kiosk", "config", "--frames", "3"],
                 ["kiosk", "badge", "99", "Ada"]):
        code, err = _run(capsys, "--home", str(tmp_path), *argv)
        assert code == 2, (argv, err)
        assert "Traceback" not in err
        assert [p["field"] for p in _problem_lines(err, "kiosk.json")] == fields
        assert path.read_text() == content


PIN_BAD = {
    "empty object": ({}, ["salt", "hash", "n", "r", "p", "failures", "next_try"]),
    "a list": ([1, 2], ["(whole file)"]),
    "bad hex salt": ({"salt": "zz"}, ["salt"]),
    "short hash": ({"hash": "00ff"}, ["hash"]),
    "huge n": ({"n": 2**30}, ["n"]),
    "n not a power of two": ({"n": 1000}, ["n"]),
    "n and r over the memory cap": ({"n": 2**16, "r": 16}, ["n, r"]),
    "p huge": ({"p": 10**6}, ["p"]),
    "next_try text": ({"next_try": "soon"}, ["next_try"]),
    "failures negative": ({"failures": -1}, ["failures"]),
    "failures float": ({"failures": 1.5}, ["failures"]),
}


@pytest.mark.parametrize("change,fields", PIN_BAD.values(), ids=PIN_BAD.keys())
def test_bad_pin_file_is_one_message_per_problem(tmp_path, tmp_path_factory, capsys, change,
                                                 fields):
    state = change if not isinstance(change, dict) or not change else \
        {**_good_pin_state(tmp_path_factory), **change}
    path = tmp_path / "admin_pin.json"
    path.write_text(json.dumps(state))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    code, err = _run(capsys, "--home", str(tmp_path), "kiosk", "config", "--frames", "3",
                     "--pin", "1234")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB
    assert code == 2, err
    assert "Traceback" not in err and "memory limit" not in err
    assert [p["field"] for p in _problem_lines(err, "admin_pin.json")] == fields
    assert not (tmp_path / "kiosk.json").exists()  # nothing was changed
    assert json.loads(path.read_text()) == state
    with pytest.raises(PinFileError):
        AdminPin(tmp_path).check("1234")


def test_good_files_still_load_and_unknown_keys_are_ignored(tmp_path, tmp_path_factory):
    (tmp_path / "settings.json").write_text(json.dumps(
        {"threshold": 0.6, "provider": "cpu", "min_face": 30, "from_a_newer_version": 1}))
    s = Settings.load(tmp_path)
    assert (s.threshold, s.provider, s.min_face, s.model_pack) == (0.6, "cpu", 30, "lite")
    (tmp_path / "kiosk.json").write_text(json.dumps({"frames": 4, "badges": {"77": "Ada"}}))
    assert KioskConfig.load(tmp_path).resolve_claim("77") == "Ada"
    (tmp_path / "admin_pin.json").write_text(json.dumps(_good_pin_state(tmp_path_factory)))
    assert AdminPin(tmp_path).check("1234").ok


def test_pack_name_is_never_a_path(tmp_path):
    for bad in ("../../../../elsewhere/evilpack", "/etc", "lite/../lite", "", "nosuch"):
        with pytest.raises(ModelPackError, match="model pack"):
            load_pack(bad, home=tmp_path)
        with pytest.raises(ModelPackError):
            source_manifest(bad)


def test_reset_keeps_a_copy(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("[1]")
    copy = reset_to_defaults(path)
    assert copy is not None and copy.read_text() == "[1]" and not path.exists()
    assert Settings.load(tmp_path) == Settings()
    path.write_text("null")
    assert reset_to_defaults(path).name == "settings.json.damaged-2"


CLI_BAD = {
    "frames 0": (["--frames", "0"], ["frames"]),
    "frames and min-face": (["--frames", "0", "--min-face", "2"], ["frames", "min_face_px"]),
    "http door without URL": (["--action-http", ""], ["action_target"]),
    "negative cooldown": (["--cooldown", "-5"], ["action_cooldown_s"]),
}


@pytest.mark.parametrize("argv,fields", CLI_BAD.values(), ids=CLI_BAD.keys())
def test_bad_kiosk_config_values_are_refused_the_same_way(tmp_path, capsys, argv, fields):
    code, err = _run(capsys, "--home", str(tmp_path), "kiosk", "config", *argv)
    assert code == 2 and "Traceback" not in err
    assert [p["field"] for p in _problem_lines(err, "kiosk.json")] == fields
    assert not (tmp_path / "kiosk.json").exists()
