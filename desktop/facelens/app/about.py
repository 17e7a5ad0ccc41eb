"""Help > About: versions, the provider and model pack in use, and licences."""

from __future__ import annotations

import platform
from html import escape

import PySide6
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout

from .. import __version__

# Licences of the libraries FaceLens runs on, as their projects state them.
LIBRARY_LICENCES = {
    "Qt / PySide6": "LGPL-3.0",
    "ONNX Runtime": "MIT",
    "OpenCV": "Apache-2.0",
    "FAISS": "MIT",
    "NumPy": "BSD-3-Clause",
}


def library_versions() -> dict[str, str]:
    """Versions of Python and the libraries FaceLens runs on (as loaded in this process)."""
    import cv2
    import numpy
    import onnxruntime

    try:
        import faiss

        faiss_version = getattr(faiss, "__version__", "unknown")
    except ImportError:
        faiss_version = "not installed"
    return {
        "Python": platform.python_version(),
        "Qt / PySide6": f"Qt {qVersion()}, PySide6 {PySide6.__version__}",
        "ONNX Runtime": onnxruntime.__version__,
        "OpenCV": cv2.__version__,
        "FAISS": faiss_version,
        "NumPy": numpy.__version__,
    }


def about_html(engine=None) -> str:
    """The About text: FaceLens, provider and pack (when loaded), versions, licences."""
    rows = [f"<h3>FaceLens {escape(__version__)}</h3>",
            "<p>Offline real-time face recognition. Licence: MIT.</p>"]
    if engine is None:
        rows.append("<p>Model pack: still loading.</p>")
    else:
        pack = engine.pack
        rows.append(f"<p><b>Provider:</b> {escape(engine.provider)}<br>"
                    f"<b>Model pack:</b> {escape(pack.name)} ({escape(engine.model_id)}, "
                    f"{engine.dim}-d)<br><b>Pack licence:</b> {escape(pack.licence)}<br>"
                    f"<b>Pack folder:</b> {escape(str(pack.dir))} (model card: MODEL_CARD.md)"
                    "</p>")
    versions = library_versions()
    rows.append("<table cellspacing='4'><tr><th align='left'>component</th>"
                "<th align='left'>version</th><th align='left'>licence</th></tr>")
    for name, version in versions.items():
        licence = LIBRARY_LICENCES.get(name, "PSF-2.0" if name == "Python" else "")
        rows.append(f"<tr><td>{escape(name)}</td><td>{escape(version)}</td>"
                    f"<td>{escape(licence)}</td></tr>")
    rows.append("</table>")
    return "".join(rows)


class AboutDialog(QDialog):
    """A small window with :func:`about_html` (text selectable, to paste into a bug report)."""

    def __init__(self, engine=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("About FaceLens")
        self.text = QLabel(about_html(engine))
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.setMinimumWidth(480)
