"""The app at start-up with a damaged settings, kiosk or PIN file: the CLI's message in a
dialog, and a reset to the defaults that keeps a copy (pytest-qt, offscreen)."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from facelens.app.config_repair import load_kiosk_files, load_or_repair, repair_box  # noqa: E402
from facelens.config_schema import ConfigError  # noqa: E402
from facelens.kiosk.config import KioskConfig  # noqa: E402
from facelens.settings import Settings  # noqa: E402

DAMAGED = {
    "settings.json": '{"threshold": "abc", "model_pack": "../../evil"}',
    "kiosk.json": '{"frames": "five"}',
    "admin_pin.json": '{"n": 1073741824}',
}


def _click_in_dialog(qtbot, button: str):
    """Press `button` ("reset" or "close") of the repair dialog once it is shown."""
    def press() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(50, press)
            return
        press.text = box.informativeText()
        if button == "reset":
            box.reset_button.click()
        else:
            box.button(QMessageBox.StandardButton.Close).click()

    press.text = ""
    QTimer.singleShot(50, press)
    return press


def test_dialog_shows_the_cli_message(qtbot, tmp_path):
    (tmp_path / "settings.json").write_text(DAMAGED["settings.json"])
    with pytest.raises(ConfigError) as info:
        Settings.load(tmp_path)
    box = repair_box(info.value)
    qtbot.addWidget(box)
    assert box.informativeText().splitlines() == ["\u2022 " + p for p in info.value.problems]
    assert [p.split(":")[0] for p in info.value.problems] == ["threshold", "model_pack"]
    assert box.reset_button.text().startswith("Reset to defaults")


def test_reset_keeps_a_copy_and_loads_defaults(qtbot, tmp_path):
    path = tmp_path / "settings.json"
    path.write_text(DAMAGED["settings.json"])
    notes: list[str] = []
    press = _click_in_dialog(qtbot, "reset")
    settings = load_or_repair(lambda: Settings.load(tmp_path), tell=notes.append)
    assert settings == Settings()
    assert "threshold:" in press.text and "model_pack:" in press.text
    copy = tmp_path / "settings.json.damaged-1"
    assert copy.read_text() == DAMAGED["settings.json"] and not path.exists()
    assert str(copy) in notes[0]


def test_close_changes_nothing(qtbot, tmp_path):
    path = tmp_path / "kiosk.json"
    path.write_text(DAMAGED["kiosk.json"])
    _click_in_dialog(qtbot, "close")
    assert load_or_repair(lambda: KioskConfig.load(tmp_path), tell=print) is None
    assert path.read_text() == DAMAGED["kiosk.json"]


def test_kiosk_start_repairs_each_damaged_file_in_turn(qtbot, tmp_path):
    for name, text in DAMAGED.items():
        (tmp_path / name).write_text(text)
    asked: list[str] = []

    def ask(box: QMessageBox) -> bool:
        asked.append(box.text())
        return True

    settings, config = load_or_repair(lambda: load_kiosk_files(tmp_path), ask=ask,
                                      tell=lambda text: None)
    assert (settings, config) == (Settings(), KioskConfig())
    assert len(asked) == 3 and all(any(n in a for a in asked) for n in DAMAGED)
    for name, text in DAMAGED.items():
        assert (tmp_path / f"{name}.damaged-1").read_text() == text


def test_kiosk_from_the_window_offers_the_repair(qtbot, tmp_path, engine):
    from PySide6.QtCore import QSettings

    from facelens.app.main_window import MainWindow

    window = MainWindow(tmp_path, Settings(), engine=engine, style_panel=False,
                        qsettings=QSettings(str(tmp_path / "qt.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    (tmp_path / "kiosk.json").write_text(DAMAGED["kiosk.json"])
    press = _click_in_dialog(qtbot, "close")
    assert window.open_kiosk() is None and window.kiosk is None
    assert press.text.startswith("\u2022 frames: ")
    assert (tmp_path / "kiosk.json").read_text() == DAMAGED["kiosk.json"]
    window.close()
