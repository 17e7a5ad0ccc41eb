"""The PySide6 desktop app: it shows what the Qt-free engine and live pipeline emit."""
