"""Start-up and the CLI's plumbing: light commands import no heavy library, a closed pipe
ends quietly, and with --json every error is a JSON object on stdout."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from facelens.cli import COMMAND_MODULES, COMMANDS, main

ROOT = Path(__file__).resolve().parents[1]
# What makes a command take seconds to start (ONNX Runtime, the ONNX/TFLite converter, SciPy,
# OpenCV, FAISS, Qt); NumPy alone is a quarter of a second on a busy 2-core machine.
HEAVY = ("onnxruntime", "onnx", "tflite", "scipy", "cv2", "faiss", "numpy", "PySide6")
PROBE = """
import json, os, sys
from facelens.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:  # --help, --version
    code = exc.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(os.environ["HEAVY_MODULES"].split()))
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT / "desktop"), "HEAVY_MODULES": " ".join(HEAVY)}


def _probe(*argv: str) -> dict:
    """Run ``facelens ARGV`` in a fresh interpreter; its exit code and the heavy modules loaded."""
    proc = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True,
                          timeout=120, env=_env())
    return json.loads(proc.stderr.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def enrolled_home(tmp_path_factory, engine, faces_dev) -> Path:
    """A data folder whose gallery holds two people enrolled from real photos."""
    import cv2

    from facelens.gallery import open_for_home

    home = tmp_path_factory.mktemp("home")
    with open_for_home(home, engine.model_id, engine.dim) as g:
        for name, folder in (("Amy", "bbt_amy"), ("Raj", "bbt_raj")):
            photo = cv2.imread(str(faces_dev / "people" / folder / "1.png"))
            faces = engine.analyze_photo(photo, min_face=20)
            g.enrol(name, faces[0].embedding[None, :])
    return home


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["people"], ["people", "--json"],
                                  ["people", "--help"], ["models", "list"]])
def test_light_commands_import_no_heavy_library(argv, enrolled_home):
    result = _probe("--home", str(enrolled_home), *argv)
    assert result == {"code": 0, "heavy": []}


def test_a_heavy_command_still_gets_its_libraries(enrolled_home):
    """The probe sees imports: identify loads the models (so an empty list above means it)."""
    result = _probe("--home", str(enrolled_home), "identify", "--json", str(ROOT / "none.jpg"))
    assert result["code"] == 1 and {"onnxruntime", "numpy", "faiss"} <= set(result["heavy"])


def test_people_lists_what_the_gallery_holds(enrolled_home, engine, capsys):
    from facelens.gallery import list_people, open_for_home
    from facelens.gallery.gallery import default_db_path

    assert main(["--home", str(enrolled_home), "people", "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    with open_for_home(enrolled_home, engine.model_id, engine.dim) as g:
        full = g.people()
    assert [(p["name"], p["templates"]) for p in listed] == [("Amy", 1), ("Raj", 1)]
    assert [(p["name"], p["templates"], p["created"], p["updated"]) for p in listed] == \
        [(p.name, p.templates, p.created, p.updated) for p in full]
    other = list_people(default_db_path(enrolled_home), "another/model", engine.dim)
    assert [(p.name, p.templates) for p in other] == [("Amy", 0), ("Raj", 0)]


def test_people_on_a_new_data_folder_creates_nothing(tmp_path, capsys):
    home = tmp_path / "new"
    assert main(["--home", str(home), "people"]) == 0
    assert "no one enrolled yet" in capsys.readouterr().out
    assert not (home / "gallery.db").exists()


def test_command_table_matches_what_the_modules_register():
    registered = {}
    for module in COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).register(sub)
        registered.update({a.dest: (module, a.help) for a in sub._choices_actions})
    assert registered == COMMANDS


@pytest.mark.parametrize("argv", [["kiosk", "config"], ["--help"], ["people", "--json"]])
def test_a_closed_pipe_ends_quietly(argv, enrolled_home):
    """`facelens kiosk config | head`: the reader is gone before anything is written."""
    proc = subprocess.Popen([sys.executable, "-m", "facelens", "--home", str(enrolled_home),
                             *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=_env())
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) in (0, 141)
    assert err == ""


def _exit_code(argv: list[str]) -> int:
    """`main`'s exit code, also for usage errors (argparse ends those with SystemExit)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code)


def _json_out(capsys) -> tuple[list[dict], str]:
    out, err = capsys.readouterr()
    return [json.loads(line) for line in out.splitlines() if line.strip()], err


def test_with_json_errors_are_json_objects_on_stdout(tmp_path, capsys):
    home = ["--home", str(tmp_path)]
    assert main([*home, "remove", "nobody", "--json"]) == 2  # a FaceLensError
    out, err = _json_out(capsys)
    assert out == [{"error": "no one called 'nobody' is enrolled in the gallery"}] and err == ""
    assert _exit_code([*home, "people", "--json", "--colour"]) == 2  # a usage error
    out, err = _json_out(capsys)
    assert "unrecognized arguments: --colour" in out[0]["error"] and err == ""
    assert _exit_code([*home, "kiosk", "config", "--frames", "many", "--json"]) == 2
    out, _ = _json_out(capsys)
    assert "--frames: invalid int value: 'many'" in out[0]["error"]
    assert _exit_code([*home, "peple", "--json"]) == 2  # a typo of a command
    out, _ = _json_out(capsys)
    assert "invalid choice: 'peple'" in out[0]["error"]


def test_without_json_errors_stay_messages_on_stderr(tmp_path, capsys):
    assert main(["--home", str(tmp_path), "remove", "nobody"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == "facelens: error: no one called 'nobody' is enrolled in the gallery\n"


def _app_env(**changes: str | None) -> dict[str, str]:
    env = {**_env(), "FACELENS_MODELS": os.environ["FACELENS_MODELS"]}
    for key, value in changes.items():
        env.pop(key, None)
        if value is not None:
            env[key] = value
    return env


def _open_window(home: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "facelens", "--home", str(home)], env=env,
                          capture_output=True, text=True, timeout=300)


def test_without_a_display_the_app_says_so(tmp_path):
    proc = _open_window(tmp_path, _app_env(DISPLAY=None, WAYLAND_DISPLAY=None,
                                           QT_QPA_PLATFORM=None))
    assert proc.returncode == 3, proc.stderr
    assert "the window cannot open: there is no display" in proc.stderr
    assert "no Qt platform plugin could be initialized" not in proc.stderr  # Qt's raw words


def test_a_display_that_cannot_be_reached_is_named_not_the_locale_note(tmp_path):
    """Under a "C" locale Qt first prints a note about UTF-8; the reason shown must be the
    line that says why it failed (seen as "(Detected locale "C" ...)" from `env -i`)."""
    proc = _open_window(tmp_path, _app_env(QT_QPA_PLATFORM="xcb", DISPLAY=":77",
                                           WAYLAND_DISPLAY=None, LANG=None, LC_ALL="C",
                                           LC_CTYPE=None))
    assert proc.returncode == 3, proc.stderr
    assert "Qt could not start its 'xcb' platform plugin (could not connect to display :77)" \
        in proc.stderr, proc.stderr
    assert "Detected locale" not in proc.stderr.split("facelens:", 1)[1]


def test_a_missing_system_library_is_named_with_its_package(tmp_path):
    """The xcb plugin, copied with one of its libraries renamed to one that does not exist:
    Qt cannot start it, and the app names the library and says what to install."""
    import PySide6

    qt = Path(PySide6.__file__).parent / "Qt"
    platforms = tmp_path / "qt" / "plugins" / "platforms"
    platforms.mkdir(parents=True)
    (tmp_path / "qt" / "lib").symlink_to(qt / "lib")  # the plugin finds Qt at ../../lib
    data = (qt / "plugins" / "platforms" / "libqxcb.so").read_bytes()
    assert data.count(b"libxcb-cursor.so.0\0") == 1
    (platforms / "libqxcb.so").write_bytes(data.replace(b"libxcb-cursor.so.0\0",
                                                        b"libxcb-cursor.so.9\0"))
    proc = _open_window(tmp_path, _app_env(QT_QPA_PLATFORM="xcb", DISPLAY=":99",
                                           QT_QPA_PLATFORM_PLUGIN_PATH=str(platforms)))
    assert proc.returncode == 3, proc.stderr
    missing = proc.stderr.split("needs system libraries that are missing (")[1].split(")")[0]
    assert "libxcb-cursor.so.9" in missing.split(", ")  # (and any this machine lacks too)
    assert "sudo apt-get install " in proc.stderr and "libxcb-cursor.so.9" in proc.stderr
    assert "no Qt platform plugin could be initialized" not in proc.stderr


def test_the_package_list_names_every_library_qt_loads_from_the_system():
    """Each library the xcb plugin and Qt's GUI need from outside PySide6 has its package
    (what README.md lists), apart from those on every Debian system and their own needs."""
    import shutil

    import PySide6

    from facelens.app.qt_start import PACKAGES

    if shutil.which("ldd") is None:
        pytest.skip("ldd is not installed")
    qt = Path(PySide6.__file__).parent / "Qt"
    out = subprocess.run(["ldd", str(qt / "plugins" / "platforms" / "libqxcb.so")],
                         capture_output=True, text=True, check=True).stdout
    system = {line.split()[0] for line in out.splitlines()
              if "=>" in line and str(qt) not in line.split("=>")[1]}
    xcb = {lib for lib in system if lib.startswith(("libxcb", "libX11", "libxkbcommon"))}
    assert {"libxcb-cursor.so.0", "libxcb-icccm.so.4", "libxcb-keysyms.so.1"} <= xcb
    assert xcb <= set(PACKAGES), sorted(xcb - set(PACKAGES))


def test_the_window_shows_the_video_while_the_models_load(qtbot, tmp_path, faces_dev):
    """Launched without an engine (as `facelens` is), the window shows the source's frames
    at once; when the models are ready the live pipeline carries on with the same reader, so
    the video does not start again (a camera is not reopened)."""
    from PySide6.QtCore import QSettings

    from facelens.app.main_window import MainWindow
    from facelens.live.synth import Actor, write_video
    from facelens.settings import Settings

    amy = Actor.from_file(sorted((faces_dev / "people" / "bbt_amy").iterdir())[0], "Amy")
    video = write_video(tmp_path / "amy.avi", [amy], seconds=20, face_px=160)
    home = tmp_path / "home"
    window = MainWindow(home, Settings.load(home), source=str(video.path), style_panel=False,
                        qsettings=QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    assert window.preview is not None and window.controller is None  # models still loading
    reader = window.preview.reader
    qtbot.waitUntil(lambda: window.video.scene is not None, timeout=60_000)
    qtbot.waitUntil(lambda: window.controller is not None, timeout=120_000)
    assert window.preview is None and window.controller.pipeline.reader is reader
    qtbot.waitUntil(lambda: bool(window.video.scene.faces), timeout=60_000)  # now labelled
    assert window.video.message == ""  # "opened" reached the window: no "Opening..." left


@pytest.mark.parametrize(("target", "with_tests"), [("run", False), ("test", True)])
def test_make_run_installs_only_the_app(target, with_tests):
    """`make run` syncs the app's packages; `make test` adds the test extras (pytest, ...)."""
    import shutil

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    plan = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True,
                          text=True, check=True).stdout
    syncs = [line for line in plan.splitlines() if " sync " in line]
    assert syncs, plan
    assert ("--extra test" in syncs[-1]) == with_tests, syncs


def test_the_window_module_leaves_the_models_for_later():
    """Opening the window imports no ONNX Runtime, FAISS or SciPy: they load with the models,
    on a thread, while the first frames are already shown."""
    code = ("import json, sys; import facelens.app.main_window; "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120, env=_env()).stdout
    loaded = set(json.loads(out))
    assert {"PySide6", "cv2", "numpy"} <= loaded  # what showing frames needs
    assert not loaded & {"onnxruntime", "onnx", "tflite", "scipy", "faiss"}, loaded
