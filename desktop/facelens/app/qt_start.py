"""Starting Qt: the QApplication, or a message saying what to install when Qt cannot start.

When Qt's platform plugin cannot load (system libraries missing, no display), Qt prints
"no Qt platform plugin could be initialized" and aborts the process. `start_qt` catches
that message and prints instead which Debian/Ubuntu packages are missing (found with `ldd`
on the plugin) or that there is no display, then exits with code 3.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication

EXIT_NO_QT = 3
# What the window needs beyond a minimal Debian 12 / Ubuntu system, by library: the xcb
# platform plugin and Qt's GUI libraries (README.md, "System packages"). The rest of
# what they load (libc6, libstdc++6, zlib1g, libzstd1) is on every such system; ICU comes
# with PySide6.
PACKAGES = {
    "libEGL.so.1": "libegl1", "libGL.so.1": "libgl1", "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6", "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0", "libdbus-1.so.3": "libdbus-1-3",
    "libX11.so.6": "libx11-6", "libX11-xcb.so.1": "libx11-xcb1", "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-icccm.so.4": "libxcb-icccm4", "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1", "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0", "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0", "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1", "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0", "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}
ALL_PACKAGES = sorted(set(PACKAGES.values()))


def platform_name() -> str:
    """The platform plugin Qt will try: $QT_QPA_PLATFORM's first choice, else xcb (X11)."""
    chosen = os.environ.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if chosen:
        return chosen
    return "wayland" if os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY") \
        else "xcb"


def plugin_path(name: str) -> Path | None:
    """The file of platform plugin `name` that Qt loads (PySide6's own, or from
    $QT_QPA_PLATFORM_PLUGIN_PATH), or None when there is none."""
    import PySide6

    folders = [os.environ.get("QT_QPA_PLATFORM_PLUGIN_PATH", ""),
               str(Path(PySide6.__file__).parent / "Qt" / "plugins" / "platforms")]
    for folder in filter(None, folders):
        candidate = Path(folder) / f"libq{name}.so"
        if candidate.is_file():
            return candidate
    return None


def missing_libraries(plugin: Path) -> list[str]:
    """The shared libraries `plugin` needs that the dynamic loader cannot find (`ldd`)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return []
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=20,
                             check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({line.split()[0] for line in out.splitlines() if "not found" in line})


# Qt's notes that say nothing about why the window failed (printed under a "C" locale).
_NOISE = ("Detected locale", "Qt depends on a UTF-8 locale", "If this causes problems",
          "for more information")


def qt_reason(qt_said: str) -> str:
    """The line of Qt's start-up messages that says why it failed: the first naming a failure
    ("could not connect to display ..."), else the first that is not a locale note."""
    lines = [line.strip() for line in qt_said.splitlines()
             if line.strip() and not line.strip().startswith(_NOISE)]
    for line in lines:
        if re.search(r"could not|cannot|can't|failed|unable|no such", line, re.IGNORECASE):
            return line
    return lines[0] if lines else "no reason given"


def failure_message(platform: str, qt_said: str) -> str:
    """What to tell the user when Qt could not start platform plugin `platform`."""
    plugin = plugin_path(platform) if sys.platform.startswith("linux") else None
    missing = missing_libraries(plugin) if plugin is not None else []
    if missing:
        packages = sorted({PACKAGES.get(lib, lib) for lib in missing})
        return ("facelens: the window cannot open: Qt's '{}' platform plugin needs system "
                "libraries that are missing ({}).\nInstall them with:\n\n"
                "    sudo apt-get install {}\n\n(Debian/Ubuntu package names; README.md, "
                "\"System packages\", lists all of them.) Commands such as `facelens people` "
                "work without them.").format(platform, ", ".join(missing), " ".join(packages))
    if platform == "xcb" and not os.environ.get("DISPLAY"):
        return ("facelens: the window cannot open: there is no display (DISPLAY is not set).\n"
                "Start FaceLens from a desktop session (over ssh: `ssh -X`), or use the "
                "commands, which need none (`facelens --help`).")
    return ("facelens: the window cannot open: Qt could not start its '{}' platform plugin "
            "({}).\nCheck that a display is available, and that these packages are "
            "installed:\n\n    sudo apt-get install {}\n").format(
                platform, qt_reason(qt_said),
                " ".join(ALL_PACKAGES))


def start_qt(argv: list[str] | None = None) -> QApplication:
    """The running QApplication, or a new one. If Qt cannot start, print what to install
    (not Qt's own message) and exit with code 3."""
    app = QApplication.instance()
    if app is not None:
        return app
    held: list[tuple[QtMsgType, str]] = []  # Qt's messages while it starts

    def handler(kind: QtMsgType, _context, message: str) -> None:
        if kind == QtMsgType.QtFatalMsg:
            reasons = "\n".join(m for k, m in held if k != QtMsgType.QtDebugMsg)
            print(failure_message(platform_name(), reasons or message), file=sys.stderr,
                  flush=True)
            os._exit(EXIT_NO_QT)  # Qt would abort() right after this handler returns
        held.append((kind, message))

    previous = qInstallMessageHandler(handler)
    try:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    finally:
        qInstallMessageHandler(previous)
    for kind, message in held:  # it started: show Qt's warnings as it would have
        if kind not in (QtMsgType.QtDebugMsg, QtMsgType.QtInfoMsg):
            print(message, file=sys.stderr)
    return app
