"""The Linux single-file bundle (`make appimage`) in a clean environment (`env -i`).

Building it takes minutes, so the test uses dist/FaceLens-<version>-x86_64.run when it is
there (FACELENS_BUNDLE names another file) and skips with a reason when it is not.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT
from facelens import __version__

pytestmark = pytest.mark.packaging
BUNDLE = Path(os.environ.get("FACELENS_BUNDLE")
              or ROOT / "dist" / f"FaceLens-{__version__}-x86_64.run")
MODELS = Path(os.environ["FACELENS_MODELS"])


@pytest.fixture(scope="module")
def bundle() -> Path:
    if not BUNDLE.is_file():
        pytest.skip(f"{BUNDLE} is not built: run `make appimage` first")
    if not (MODELS / "lite").is_dir():
        pytest.skip(f"the lite pack is not built in {MODELS}: run `make models`")
    return BUNDLE


def _run(bundle: Path, home: Path, *args: str, timeout: int = 180,
         **extra: str) -> subprocess.CompletedProcess:
    """The bundle under `env -i`: no venv, no PYTHONPATH, only what a desktop session has."""
    env = [f"HOME={home}", "PATH=/usr/bin:/bin", f"FACELENS_MODELS={MODELS}",
           f"FACELENS_HOME={home / 'data'}", *(f"{k}={v}" for k, v in extra.items())]
    return subprocess.run(["env", "-i", *env, str(bundle), *args], capture_output=True,
                          text=True, timeout=timeout)


def test_bundle_version_models_and_identify(bundle, tmp_path, faces_dev):
    out = _run(bundle, tmp_path, "--version")
    assert out.stdout.strip() == f"facelens {__version__}", out.stderr[-2000:]
    verify = _run(bundle, tmp_path, "models", "verify", "--json")
    assert verify.returncode == 0, verify.stdout + verify.stderr[-2000:]
    photos = sorted((faces_dev / "people" / "bbt_amy").iterdir())
    enrol = _run(bundle, tmp_path, "enrol", "Amy", str(photos[1]), "--json")
    assert enrol.returncode == 0, enrol.stdout + enrol.stderr[-2000:]
    ident = _run(bundle, tmp_path, "identify", str(photos[0]), "--json")
    assert ident.returncode == 0, ident.stdout + ident.stderr[-2000:]
    result = json.loads(ident.stdout.splitlines()[0])
    assert "Amy" in json.dumps(result), result
    bad = _run(bundle, tmp_path, "identify", str(tmp_path / "missing.jpg"))
    assert bad.returncode != 0 and "missing.jpg: no such file" in bad.stdout + bad.stderr


def test_bundle_window_shows_video_offscreen(bundle, tmp_path, faces_dev):
    out = _run(bundle, tmp_path, "--source", str(faces_dev / "people" / "bbt_amy"),
               QT_QPA_PLATFORM="offscreen", FACELENS_SMOKE_TEST="1")
    assert out.returncode == 0, out.stdout + out.stderr[-3000:]
    assert "first frame after" in out.stdout
    print("\n" + out.stdout.strip())
