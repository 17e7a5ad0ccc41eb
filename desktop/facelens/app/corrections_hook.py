"""Wires :class:`LiveCorrections` into the main window (a right-click menu on the video)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from .corrections import LiveCorrections


def hook_corrections(window) -> LiveCorrections:
    """Give `window`'s video a face menu; returns the corrections object it uses."""
    corrections = LiveCorrections(
        gallery=lambda: window.gallery,
        capture=lambda track: window.controller.capture(track) if window.controller else None,
        names=lambda: window.people.names(),
        notify=lambda text: window.status.showMessage(text, 5000),
        changed=lambda: (window.people.refresh(), window._gallery_changed()))
    video = window.video
    video.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def show(pos) -> None:
        if video.scene is None or window.gallery is None:
            return
        face = video.scene.face_at(*video.to_frame(pos))
        if face is not None:
            corrections.menu(face, video).popup(video.mapToGlobal(pos))

    video.customContextMenuRequested.connect(show)
    return corrections
