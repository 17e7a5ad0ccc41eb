"""A damaged settings, kiosk or PIN file at start-up: show the problems, offer to reset it.

The message is the one the CLI prints ("<file>: <field>: <what is wrong>; <what to do>");
resetting moves the file aside as ``<name>.damaged-<n>`` (a copy is kept) so its defaults
apply, then loading is tried again (another file may be damaged too).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtWidgets import QMessageBox, QWidget

from ..config_schema import ConfigError, reset_to_defaults
from ..errors import FaceLensError

T = TypeVar("T")
RESET = "Reset to defaults (keep a copy)"
BULLET = "\u2022 "


def repair_box(error: ConfigError, parent: QWidget | None = None) -> QMessageBox:
    """The dialog for `error`: its problems, a reset button and Quit."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("FaceLens: a settings file is damaged")
    name = error.path.name if error.path is not None else "a settings file"
    box.setText(f"{name} cannot be used:")
    box.setInformativeText("\n".join(BULLET + p for p in error.problems))
    box.setDetailedText(str(error))
    box.reset_button = box.addButton(RESET, QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Close)
    box.setDefaultButton(box.reset_button)
    return box


def load_or_repair(load: Callable[[], T], parent: QWidget | None = None,
                   ask: Callable[[QMessageBox], bool] | None = None,
                   tell: Callable[[str], None] | None = None) -> T | None:
    """`load()`; while it raises ConfigError, ask (the dialog) whether to reset that file and
    try again. None when the user closes instead (nothing is changed then). `ask` answers the
    dialog (True: reset) and `tell` shows a notice, instead of modal boxes (tests)."""
    def exec_box(box: QMessageBox) -> bool:
        box.exec()
        return box.clickedButton() is box.reset_button

    ask = ask or exec_box
    tell = tell or (lambda text: QMessageBox.information(parent, "FaceLens", text))
    seen = set()
    while True:
        try:
            return load()
        except ConfigError as exc:
            if exc.path is None or exc.path in seen or not ask(repair_box(exc, parent)):
                return None
            seen.add(exc.path)
            try:
                copy = reset_to_defaults(exc.path)
            except FaceLensError as write_exc:  # a read-only folder: say so and stop
                tell(f"{exc.path.name} could not be reset: {write_exc}")
                return None
            if copy is not None:
                tell(f"{exc.path.name} was reset to the defaults; the damaged file was kept "
                     f"as {copy}.")


def load_kiosk_files(home: Path) -> tuple:
    """Everything the kiosk reads at start: settings, kiosk config, and the PIN file checked
    (ConfigError for the first damaged one)."""
    from ..kiosk.config import KioskConfig
    from ..kiosk.pin import AdminPin
    from ..settings import Settings

    AdminPin(home).check_file()
    return Settings.load(home), KioskConfig.load(home)
