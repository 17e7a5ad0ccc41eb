"""Bad input to the CLI gives a message and exit code 2, never a traceback: calibrate on wrong
folders, stylize to an unknown output type; `attendance export -` writes to standard output;
an enrol that adds nothing says so."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import datetime

import pytest

from facelens.attendance import AttendanceStore
from facelens.cli import main


def _fails_with(capsys, argv: list[str], *words: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    for w in words:
        assert w in err, (w, err)
    return err


@pytest.mark.parametrize("command", [["calibrate"], ["kiosk", "calibrate-liveness", "--pin",
                                                     "1234"]])
def test_calibrate_on_a_missing_folder_a_file_or_one_without_sub_folders(
        tmp_path, capsys, faces_dev, command):
    home = ["--home", str(tmp_path / "home")]
    _fails_with(capsys, [*home, *command, str(tmp_path / "nowhere")], "no such folder",
                "one sub-folder of photos per person")
    photo = faces_dev / "people" / "bbt_amy" / "1.png"
    _fails_with(capsys, [*home, *command, str(photo)], "is a file, not a folder")
    flat = tmp_path / "flat"
    flat.mkdir()
    shutil.copy(photo, flat / "1.png")
    (flat / "empty").mkdir()
    _fails_with(capsys, [*home, *command, str(flat)], "no sub-folders with photos")


def test_calibrate_with_one_person_says_what_it_needs(tmp_path, capsys, faces_dev):
    one = tmp_path / "people" / "amy"
    one.mkdir(parents=True)
    for n in ("1.png", "2.png"):
        shutil.copy(faces_dev / "people" / "bbt_amy" / n, one / n)
    _fails_with(capsys, ["--home", str(tmp_path / "home"), "calibrate", str(one.parent)],
                "at least two people", "found 2 face(s) of 1 person(s)")


@pytest.mark.parametrize("name,words", [("out.xyz", ["unknown output type .xyz", ".png"]),
                                        ("out", ["unknown output type (no extension)"])])
def test_stylize_to_an_unknown_output_type(tmp_path, capsys, faces_dev, name, words):
    photo = faces_dev / "people" / "bbt_amy" / "1.png"
    _fails_with(capsys, ["--home", str(tmp_path), "stylize", "--style", "0", str(photo),
                         str(tmp_path / name)], *words)
    assert not (tmp_path / name).exists()


def test_stylize_video_to_an_image_name_is_refused_before_work(tmp_path, capsys):
    _fails_with(capsys, ["--home", str(tmp_path), "stylize", "--style", "0",
                         str(tmp_path / "in.mp4"), str(tmp_path / "out.png")],
                "video output must be an .mp4 file")


@pytest.fixture
def attendance_home(tmp_path):
    day = datetime(2026, 4, 1, 9, 0).astimezone()
    store = AttendanceStore(tmp_path / "attendance.db", window_s=0, wallclock=lambda: day)
    store.log("amy", 0.7)
    store.log("raj", 0.8)
    return tmp_path


def test_attendance_export_dash_writes_to_standard_output(attendance_home, capsys,
                                                          monkeypatch):
    work = attendance_home / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    for extra in ([], ["--json"]):
        assert main(["--home", str(attendance_home), "attendance", "export", "--from",
                     "2026-04-01", "--to", "2026-04-01", "-", *extra]) == 0
        out, err = capsys.readouterr()
        rows = list(csv.DictReader(io.StringIO(out)))
        assert [r["person"] for r in rows] == ["amy", "raj"], out  # only the CSV on stdout
        assert "2 rows written to standard output" in err
    assert list(work.iterdir()) == []  # no file called "-"


def test_attendance_export_into_a_missing_folder(attendance_home, capsys):
    target = attendance_home / "no" / "such" / "x.csv"
    _fails_with(capsys, ["--home", str(attendance_home), "attendance", "export", "--from",
                         "2026-04-01", "--to", "2026-04-01", str(target)],
                "cannot write the CSV", "standard output")
    assert not target.parent.exists()


def test_enrol_that_adds_nothing_says_so(tmp_path, capsys, faces_dev):
    blank, text = tmp_path / "blank.png", tmp_path / "text.jpg"
    shutil.copy(faces_dev / "nofaces" / "white.png", blank)
    text.write_text("not an image\n")
    argv = ["--home", str(tmp_path / "home"), "enrol", "Amy", str(blank), str(text)]
    assert main([*argv, "--json"]) == 1
    (obj,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert obj["added"] == 0 and "nothing enrolled for Amy" in obj["error"]
    assert [(r["image"], r["added"]) for r in obj["images"]] == [(str(blank), False),
                                                                  (str(text), False)]
    assert obj["images"][0]["error"] == "no face found"
    assert "not a readable image" in obj["images"][1]["error"]
    assert main(argv) == 1
    assert capsys.readouterr().out.startswith("nothing enrolled for Amy: none of the 2")
