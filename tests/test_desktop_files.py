"""Linux desktop integration: the .desktop entry, the icon, AppStream metainfo, install-desktop."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import ROOT
from facelens import __version__

LINUX = ROOT / "packaging" / "linux"


def test_desktop_entry_runs_facelens_with_its_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(LINUX / "facelens.desktop")
    d = entry["Desktop Entry"]
    assert d["Type"] == "Application" and d["Exec"] == "facelens" and d["Icon"] == "facelens"
    assert (LINUX / f"{d['Icon']}.svg").is_file()
    ET.parse(LINUX / "facelens.svg")  # well-formed SVG


def test_metainfo_matches_the_package():
    root = ET.parse(LINUX / "io.github.facelens.metainfo.xml").getroot()
    assert root.findtext("launchable") == "facelens.desktop"
    assert root.find("releases/release").get("version") == __version__


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstreamcli not installed")
def test_metainfo_validates_with_appstreamcli():
    out = subprocess.run(["appstreamcli", "validate", "--no-net", "--pedantic",
                          str(LINUX / "io.github.facelens.metainfo.xml")],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_install_desktop_puts_files_under_prefix(tmp_path):
    out = subprocess.run(["make", "-s", "-C", str(ROOT), "install-desktop", f"PREFIX={tmp_path}"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    for rel in ("share/applications/facelens.desktop",
                "share/icons/hicolor/scalable/apps/facelens.svg",
                "share/metainfo/io.github.facelens.metainfo.xml"):
        assert (tmp_path / rel).is_file(), rel
