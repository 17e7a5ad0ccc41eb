"""The folder file dialogs open in: the last one used, remembered in QSettings."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

KEY = "dialogs/last_folder"


class FolderMemory:
    """Where the next file dialog starts, and remembering where the last one ended."""

    def __init__(self, qsettings: QSettings):
        self.qsettings = qsettings

    def start(self, filename: str = "") -> str:
        """The last folder used (joined with `filename` for save dialogs), or ""."""
        folder = str(self.qsettings.value(KEY) or "")
        if folder and not Path(folder).is_dir():
            folder = ""
        return str(Path(folder) / filename) if folder and filename else (folder or filename)

    def remember(self, path: str) -> None:
        """Remember the folder of `path` (a file) or `path` itself (a folder)."""
        if not path:
            return
        p = Path(path)
        self.qsettings.setValue(KEY, str(p if p.is_dir() else p.parent))
