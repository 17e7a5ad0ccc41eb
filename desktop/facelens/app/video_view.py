"""The live view: paints the newest frame and the scene model's boxes and labels."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QImage, QPainter, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..live.scene import NOT_RECOGNISED, RECOGNISED, Scene, SceneFace

COLOURS = {
    RECOGNISED: QColor(40, 200, 90),
    NOT_RECOGNISED: QColor(230, 60, 50),
}
OTHER = QColor(240, 180, 30)  # too small / too blurry
VERIFY_MARK = QColor(80, 170, 255)  # the face the verify panel checks
MESSAGE_PAD = 10


def to_qimage(bgr: np.ndarray) -> QImage:
    """A QImage that owns a copy of the BGR frame's pixels (Qt reads BGR directly)."""
    bgr = np.ascontiguousarray(bgr)
    h, w = bgr.shape[:2]
    return QImage(bgr.data, w, h, 3 * w, QImage.Format.Format_BGR888).copy()


class VideoView(QWidget):
    """Fills its area with the video, letterboxed; boxes and labels come from :attr:`scene`.

    ``scene`` is the model the view paints: tests read it instead of pixels.
    Clicking a face emits ``faceClicked(track_id)``. The face being verified (the scene's
    verify result) is outlined and tagged "Verifying".
    """

    faceClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.scene: Scene | None = None
        self.message = "Loading models..."
        self._image: QImage | None = None
        self.setMinimumSize(320, 240)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)

    def show_scene(self, scene: Scene) -> None:
        self.scene = scene
        if scene.image is not None:
            self._image = to_qimage(scene.image)
        self.update()

    def set_message(self, text: str) -> None:
        """Text shown over the video (source ended, loading, errors), wrapped to fit; its
        full text is also the view's tooltip. Empty hides it."""
        self.message = text
        self.setToolTip(text)
        self.update()

    def message_font(self) -> QFont:
        font = QFont(self.font())
        font.setPointSize(13)
        return font

    def message_band(self) -> QRectF:
        """Where the message is painted: a band at the bottom, tall enough for its wrapped
        lines (at most 40% of the view; the tooltip holds the whole text)."""
        width = max(1, self.width() - 2 * MESSAGE_PAD)
        needed = QFontMetrics(self.message_font()).boundingRect(
            QRect(0, 0, width, 100_000), int(Qt.TextFlag.TextWordWrap), self.message).height()
        height = min(max(44, needed + 2 * MESSAGE_PAD), max(44, int(self.height() * 0.4)))
        return QRectF(0, self.height() - height, self.width(), height)

    def verified_track(self) -> int | None:
        """The track id of the face the verify panel is checking, as painted (or None)."""
        verify = self.scene.verify if self.scene is not None else None
        return verify.track_id if verify is not None else None

    def _frame_rect(self) -> QRectF:
        if self.scene is None or not self.scene.width:
            return QRectF(self.rect())
        fw, fh = self.scene.width, self.scene.height
        s = min(self.width() / fw, self.height() / fh)
        w, h = fw * s, fh * s
        return QRectF((self.width() - w) / 2, (self.height() - h) / 2, w, h)

    def to_frame(self, point: QPointF) -> tuple[float, float]:
        """Widget coordinates to frame pixels."""
        r = self._frame_rect()
        s = r.width() / self.scene.width if self.scene and self.scene.width else 1.0
        return (point.x() - r.x()) / s, (point.y() - r.y()) / s

    def to_widget(self, x: float, y: float) -> QPointF:
        """Frame pixels to widget coordinates."""
        r = self._frame_rect()
        s = r.width() / self.scene.width if self.scene and self.scene.width else 1.0
        return QPointF(r.x() + x * s, r.y() + y * s)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt name)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(20, 20, 24))
        rect = self._frame_rect()
        if self._image is not None:
            p.drawImage(rect, self._image)
        if self.scene is not None and self.scene.width and self.scene.faces:
            s = rect.width() / self.scene.width
            font = QFont(self.font())  # one label font per paint, shared by every face
            font.setPointSizeF(max(9.0, 11.0 * min(1.5, s)))
            font.setBold(True)
            p.setFont(font)
            verified = self.verified_track()
            for face in self.scene.faces:
                if face.track_id == verified:  # under the face's own box and label
                    self._paint_verify_mark(p, face, rect, s)
                self._paint_face(p, face, rect, s)
        if self.message:
            self._paint_message(p)
        p.end()

    def _paint_face(self, p: QPainter, face: SceneFace, rect: QRectF, s: float) -> None:
        colour = COLOURS.get(face.state, OTHER)
        x1, y1, x2, y2 = face.box
        box = QRectF(rect.x() + x1 * s, rect.y() + y1 * s, (x2 - x1) * s, (y2 - y1) * s)
        p.setPen(QPen(colour, 3))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(box)
        text = face.label
        metrics = p.fontMetrics()
        tw, th = metrics.horizontalAdvance(text) + 10, metrics.height() + 4
        top = box.top() - th if box.top() - th >= rect.top() else box.bottom()
        label = QRectF(box.left(), top, tw, th)
        p.fillRect(label, colour)
        p.setPen(QColor(255, 255, 255))
        p.drawText(label, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_verify_mark(self, p: QPainter, face: SceneFace, rect: QRectF, s: float) -> None:
        x1, y1, x2, y2 = face.box
        box = QRectF(rect.x() + x1 * s, rect.y() + y1 * s, (x2 - x1) * s, (y2 - y1) * s)
        p.setPen(QPen(VERIFY_MARK, 3, Qt.PenStyle.DashLine))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(box.adjusted(-6, -6, 6, 6))
        text = "Verifying"
        metrics = p.fontMetrics()
        tag = QRectF(box.left() - 6, box.bottom() + 6, metrics.horizontalAdvance(text) + 10,
                     metrics.height() + 4)
        if tag.bottom() > rect.bottom():
            tag.moveBottom(box.top() - 6)
        p.fillRect(tag, VERIFY_MARK)
        p.setPen(QColor(255, 255, 255))
        p.drawText(tag, Qt.AlignmentFlag.AlignCenter, text)

    def _paint_message(self, p: QPainter) -> None:
        p.setFont(self.message_font())
        band = self.message_band()
        p.fillRect(band, QColor(0, 0, 0, 170))
        p.setPen(QColor(255, 255, 255))
        p.drawText(band.adjusted(MESSAGE_PAD, MESSAGE_PAD / 2, -MESSAGE_PAD, -MESSAGE_PAD / 2),
                   int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap), self.message)

    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self.scene is None or event.button() != Qt.MouseButton.LeftButton:
            return  # the right button opens the corrections menu
        x, y = self.to_frame(event.position())
        face = self.scene.face_at(x, y)
        if face is not None:
            self.faceClicked.emit(face.track_id)
