"""Right-click on a face in the live view: "This is not X" and "This is Y".

"Not X" stores the face's embedding as a negative template of X (see
:mod:`facelens.openset.negatives`); "This is Y" adds the face to Y after the quality check.
The face is captured on the worker (as for enrolment) and the correction applies when the
capture comes back.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMenu, QWidget

from ..errors import FaceLensError
from ..images import encode_jpeg
from ..live.recognise import FaceCapture
from ..live.scene import SceneFace


class LiveCorrections:
    """Builds the face menu and applies a correction when its capture arrives."""

    def __init__(self, gallery: Callable[[], object], capture: Callable[[int], None],
                 names: Callable[[], list[str]], notify: Callable[[str], None],
                 changed: Callable[[], None]):
        self.gallery, self.capture, self.names = gallery, capture, names
        self.notify, self.changed = notify, changed
        self.pending: tuple[str, str, int] | None = None  # ("not" | "is", name, track id)

    def menu(self, face: SceneFace, parent: QWidget | None = None) -> QMenu:
        """The menu for `face`: "This is not X" when it is named X, and "This is" a person."""
        menu = QMenu(parent)
        if face.name:
            act = menu.addAction(f"This is not {face.name}")
            act.triggered.connect(lambda: self.request("not", face.name, face.track_id))
        others = [n for n in self.names() if n != face.name]
        sub = menu.addMenu("This is")
        sub.setEnabled(bool(others))
        for n in others:
            sub.addAction(n).triggered.connect(
                lambda _=False, n=n: self.request("is", n, face.track_id))
        return menu

    def request(self, kind: str, name: str, track_id: int) -> None:
        self.pending = (kind, name, track_id)
        self.capture(track_id)

    def take(self, capture: FaceCapture) -> bool:
        """Apply the pending correction with `capture`; False when it is not for one."""
        if self.pending is None or capture.track_id not in (self.pending[2], None):
            return False
        kind, name, _ = self.pending
        self.pending = None
        if capture.embedding is None:
            self.notify(f"Correction not stored: {capture.reason or 'no face'}; try again "
                        "when the face is in view and sharp")
            return True
        try:
            if kind == "not":
                self.gallery().add_negative(name, capture.embedding, source="live")
                self.notify(f"Noted: this face is not {name}")
            elif not capture.ok:
                self.notify(f"Not added to {name}: face {capture.reason}")
                return True
            else:
                thumb = encode_jpeg(capture.thumbnail) if capture.thumbnail is not None else None
                self.gallery().enrol(name, capture.embedding[None, :], thumbnails=[thumb],
                                     sources=["live correction"],
                                     crops=None if capture.thumbnail is None
                                     else [capture.thumbnail])
                self.notify(f"Added this face to {name}")
        except FaceLensError as exc:
            self.notify(f"Correction not stored: {exc}")
            return True
        self.changed()
        return True
