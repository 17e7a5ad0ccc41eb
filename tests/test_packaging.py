"""The wheel in a fresh `python -m venv` with plain pip: the two pip traps, the CLI, the window.

Marked ``packaging``: it needs a package index (PyPI, or the wheels pip is configured with) and
takes minutes (about 3 min here; under 1 min of it with `make wheelhouse` done), so
``-m "not packaging"`` leaves it out, and it skips with a reason offline or with
FACELENS_SKIP_PACKAGING=1.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FACES_DEV, ROOT
from facelens import __version__
from facelens.install_check import drop_foreign_qt_paths

pytestmark = pytest.mark.packaging
WHEELHOUSE = ROOT / "build" / "wheelhouse"
DIST_WHEEL = ROOT / "dist" / f"facelens-{__version__}-py3-none-any.whl"  # from `make dist`
DIST_SDIST = ROOT / "dist" / f"facelens-{__version__}.tar.gz"

WINDOW_SCRIPT = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from facelens.cli import main
app = QApplication(sys.argv[:1])
QTimer.singleShot(4000, app.quit)
code = main(["--home", sys.argv[1], "--source", sys.argv[2]])
print("window closed", app.platformName(), code)
sys.exit(code)
"""


def _index_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


def _run(cmd: list[str] | str, env: dict[str, str], timeout: int = 300,
         **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, **kw)


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A `python -m venv` with the freshly built wheel installed by plain pip (no uv)."""
    if os.environ.get("FACELENS_SKIP_PACKAGING") == "1":
        pytest.skip("FACELENS_SKIP_PACKAGING=1")
    if not _index_reachable():
        pytest.skip("offline: pip needs PyPI (pypi.org:443) for onnxruntime-gpu and insightface")
    base = tmp_path_factory.mktemp("pkg")
    venv = base / "venv"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}:{env.get('PATH', '')}"
    env["HOME"] = str(base / "home")  # the window's QSettings stay out of the user's config
    env.pop("XDG_CONFIG_HOME", None)
    if WHEELHOUSE.is_dir():  # `make wheelhouse`: reuse downloaded wheels (pip still checks PyPI)
        env["PIP_FIND_LINKS"] = f"{WHEELHOUSE} {env.get('PIP_FIND_LINKS', '')}".strip()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    t0 = time.monotonic()
    wheel = DIST_WHEEL
    if not wheel.is_file():  # no `make dist`: pip builds the wheel from the checkout
        wheel_dir = base / "dist"
        built = _run([str(venv / "bin/pip"), "wheel", "--no-deps", "-q", "-w", str(wheel_dir),
                      str(ROOT)], env)
        assert built.returncode == 0, built.stderr
        wheel = next(wheel_dir.glob("facelens-*.whl"))
    installed = _run([str(venv / "bin/pip"), "install", "-q", "--progress-bar", "off",
                      str(wheel)], env, timeout=1500)
    assert installed.returncode == 0, installed.stderr[-3000:]
    print(f"\nbuild + pip install took {time.monotonic() - t0:.0f} s")
    return venv, env


def _dists(venv: Path, env: dict[str, str]) -> set[str]:
    out = _run([str(venv / "bin/pip"), "list", "--format", "json"], env)
    return {d["name"].lower() for d in json.loads(out.stdout)}


def test_plain_pip_install_traps_are_reported_and_fixed(fresh_venv, tmp_path):
    venv, env = fresh_venv
    flens = str(venv / "bin/facelens")
    dists = _dists(venv, env)
    expected = set()
    if {"onnxruntime", "onnxruntime-gpu"} <= dists:
        expected.add("onnxruntime")
    if "opencv-python" in dists:
        expected.add("opencv")
    doctor = _run([flens, "doctor", "--json"], env)
    found = [json.loads(line) for line in doctor.stdout.splitlines()]
    assert {f.get("what") for f in found if not f["ok"]} == expected
    assert doctor.returncode == (1 if expected else 0)
    # the window starts even with opencv-python's Qt plugin path set by `import cv2`
    if FACES_DEV.is_dir():
        src = str(FACES_DEV / "people" / "bbt_amy")
        win = _run([str(venv / "bin/python"), "-c", WINDOW_SCRIPT, str(tmp_path / "h1"), src],
                   {**env, "QT_QPA_PLATFORM": "offscreen"}, timeout=120)
        assert win.returncode == 0 and "window closed" in win.stdout, win.stderr[-3000:]
    for f in found:
        if not f["ok"]:
            fixed = _run(f["fix"], env, shell=True, timeout=900)
            assert fixed.returncode == 0, fixed.stderr[-3000:]
    after = _run([flens, "doctor"], env)
    assert after.returncode == 0, after.stdout + after.stderr
    dists = _dists(venv, env)
    assert "onnxruntime-gpu" in dists and "onnxruntime" not in dists
    assert "opencv-python-headless" in dists and "opencv-python" not in dists
    probe = _run([str(venv / "bin/python"), "-c",
                  "import cv2, onnxruntime as o, pathlib; "
                  "print((pathlib.Path(cv2.__file__).parent / 'qt').exists(), "
                  "o.get_available_providers())"], env)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.startswith("False") and "CPUExecutionProvider" in probe.stdout


def test_fixed_venv_runs_cli_and_window(fresh_venv, tmp_path, faces_dev):
    venv, env = fresh_venv
    flens = str(venv / "bin/facelens")
    version = _run([flens, "--version"], env)
    assert version.stdout.strip() == f"facelens {__version__}"
    listed = _run([flens, "models", "list"], env)
    assert listed.returncode == 0 and "lite" in listed.stdout, listed.stderr
    win = _run([str(venv / "bin/python"), "-c", WINDOW_SCRIPT, str(tmp_path / "home"),
                str(faces_dev / "people" / "bbt_amy")],
               {**env, "QT_QPA_PLATFORM": "offscreen"}, timeout=120)
    assert win.returncode == 0, win.stderr[-3000:]
    assert "window closed offscreen 0" in win.stdout
    assert "Traceback" not in win.stderr


def test_drop_foreign_qt_paths_removes_only_cv2_paths(tmp_path):
    cv2_plugins = tmp_path / "site-packages" / "cv2" / "qt" / "plugins"
    env = {"QT_QPA_PLATFORM_PLUGIN_PATH": str(cv2_plugins),
           "QT_QPA_FONTDIR": str(tmp_path / "fonts")}
    assert drop_foreign_qt_paths(env) == ["QT_QPA_PLATFORM_PLUGIN_PATH"]
    assert env == {"QT_QPA_FONTDIR": str(tmp_path / "fonts")}


def test_doctor_passes_in_the_dev_environment():
    """The uv-managed venv overrides both traps away; doctor must agree (exit 0)."""
    out = _run([sys.executable, "-m", "facelens", "doctor", "--json"],
               {**os.environ, "PYTHONPATH": str(ROOT / "desktop")})
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout) == {"ok": True}


def test_make_dist_gives_a_wheel_and_an_sdist_with_every_module():
    """`make dist` (run before this by `make test-packaging`): both archives hold every module
    and model recipe of the checkout, and the wheel has the `facelens` command."""
    import tarfile
    import zipfile

    if not (DIST_WHEEL.is_file() and DIST_SDIST.is_file()):
        pytest.skip(f"{DIST_WHEEL.name} / {DIST_SDIST.name} are not built: run `make dist`")
    package = ROOT / "desktop"
    tracked = {p.relative_to(package).as_posix() for p in (package / "facelens").rglob("*")
               if p.is_file() and p.suffix in (".py", ".json", ".md")
               and "__pycache__" not in p.parts}
    with zipfile.ZipFile(DIST_WHEEL) as wheel:
        names = set(wheel.namelist())
        entry = wheel.read(f"facelens-{__version__}.dist-info/entry_points.txt").decode()
    assert tracked - names == set()
    assert "facelens = facelens.cli:main" in entry
    with tarfile.open(DIST_SDIST) as sdist:
        top = f"facelens-{__version__}/"
        members = {m.name[len(top):] for m in sdist.getmembers()}
    assert {f"desktop/{p}" for p in tracked} - members == set()
    assert {"pyproject.toml", "README.md"} <= members
