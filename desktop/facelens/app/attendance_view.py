"""The attendance report: per day and per person, a small bar chart, CSV export."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..attendance import AttendanceStore
from ..attendance.export import export_csv

COLUMNS = ["Day", "Person", "First seen", "Last seen", "Entries"]


class DayBars(QWidget):
    """People present per day (green) and unknown faces counted (grey), as bars."""

    def __init__(self) -> None:
        super().__init__()
        self.days: list[tuple[str, int, int]] = []
        self.setMinimumHeight(180)

    def set_data(self, days: list[tuple[str, int, int]]) -> None:
        self.days = days
        self.update()

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#fafafa"))
        if not self.days:
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No attendance in this range")
            return
        top = max(max(k, u) for _, k, u in self.days) or 1
        left, bottom, h = 30, self.height() - 24, self.height() - 50
        slot = (self.width() - left - 10) / len(self.days)
        bar = max(4.0, min(28.0, slot / 3))
        p.setPen(QColor("#444"))
        p.drawText(4, 18, f"{top}")
        p.drawLine(left, bottom, self.width() - 10, bottom)
        for i, (day, known, unknown) in enumerate(self.days):
            x = left + i * slot + slot / 2
            for j, (value, colour) in enumerate(((known, "#16803c"), (unknown, "#9e9e9e"))):
                bh = h * value / top
                p.fillRect(QRectF(x - bar + j * bar, bottom - bh, bar - 2, bh), QColor(colour))
            if len(self.days) <= 14 or i % max(1, len(self.days) // 7) == 0:
                p.drawText(QRectF(x - slot / 2, bottom + 2, slot, 20),
                           Qt.AlignmentFlag.AlignHCenter, day[5:])
        x = self.width() - 270
        for label, colour in (("people present", "#16803c"), ("unknown faces", "#9e9e9e")):
            p.fillRect(QRectF(x, 6, 10, 10), QColor(colour))
            p.setPen(QColor("#444"))
            p.drawText(int(x) + 14, 16, label)
            x += 130


class AttendanceView(QWidget):
    """Pick a date range, read first/last seen per day and person, export to CSV."""

    def __init__(self, store: AttendanceStore, today: date | None = None):
        super().__init__()
        self.store = store
        self.setWindowTitle("FaceLens attendance")
        today = today or date.today()
        self.date_from = QDateEdit(QDate(today - timedelta(days=6)))
        self.date_to = QDateEdit(QDate(today))
        for d in (self.date_from, self.date_to):
            d.setCalendarPopup(True)
            d.setDisplayFormat("yyyy-MM-dd")
            d.dateChanged.connect(self.refresh)
        export = QPushButton("Export CSV…")
        export.clicked.connect(self._export_clicked)
        self.chart = DayBars()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.summary = QLabel()
        bar = QHBoxLayout()
        for w in (QLabel("From"), self.date_from, QLabel("to"), self.date_to):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(export)
        lay = QVBoxLayout(self)
        lay.addLayout(bar)
        lay.addWidget(self.chart)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.summary)
        self.resize(900, 620)
        self.refresh()

    def range(self) -> tuple[str, str]:
        return (self.date_from.date().toString("yyyy-MM-dd"),
                self.date_to.date().toString("yyyy-MM-dd"))

    def refresh(self) -> None:
        lo, hi = self.range()
        rows = self.store.summary(lo, hi)
        unknown = self.store.unknown_counts(lo, hi)
        self.table.setRowCount(len(rows))
        for i, s in enumerate(rows):
            values = [s.day, s.person, s.first_seen[11:19], s.last_seen[11:19], str(s.entries)]
            for j, v in enumerate(values):
                self.table.setItem(i, j, QTableWidgetItem(v))
        per_day = Counter(s.day for s in rows)
        days = []
        d, end = date.fromisoformat(lo), date.fromisoformat(hi)
        while d <= end:
            key = d.isoformat()
            days.append((key, per_day.get(key, 0), unknown.get(key, 0)))
            d += timedelta(days=1)
        self.chart.set_data(days)
        people = len({s.person for s in rows})
        self.summary.setText(f"{len(rows)} person-days, {people} people, "
                             f"{sum(unknown.values())} unknown faces counted")

    def export_to(self, path: str | Path) -> int:
        lo, hi = self.range()
        return export_csv(self.store, path, lo, hi)

    def _export_clicked(self) -> None:
        lo, hi = self.range()
        path, _ = QFileDialog.getSaveFileName(self, "Export attendance",
                                              f"attendance_{lo}_{hi}.csv", "CSV (*.csv)")
        if not path:
            return
        try:
            n = self.export_to(path)
        except OSError as exc:
            QMessageBox.warning(self, "Export failed", str(exc))
            return
        self.summary.setText(f"{n} rows exported to {path}")


def run_attendance_view(args: argparse.Namespace) -> int:
    from ..kiosk.factory import attendance_store
    from ..paths import data_home
    from .qt_start import start_qt

    app = start_qt(sys.argv[:1])  # if Qt cannot start: says which packages to install
    view = AttendanceView(attendance_store(data_home(args.home)))
    view.show()
    return app.exec()
