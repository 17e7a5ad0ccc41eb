"""The kiosk's admin view of the audit log: a table of the latest decisions, newest first."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from ..kiosk.audit import AuditRow

COLUMNS = ("Time", "Decision", "Person", "Similarity", "Anti-spoof", "Temporal", "Reason")
GRANTED_COLOUR, REFUSED_COLOUR = QColor("#16803c"), QColor("#b3261e")


def score(x: float | None) -> str:
    """A score rounded to 3 decimals, "-" when there is none."""
    return "-" if x is None else f"{x:.3f}"


def row_cells(r: AuditRow) -> tuple[str, ...]:
    """One audit row as the table's cells (time to the second, scores rounded)."""
    person = r.matched or r.claimed or "-"
    if r.claimed and r.matched != r.claimed:
        person = f"{r.claimed} (claimed)"
    return (r.ts[:19].replace("T", " "), "GRANTED" if r.granted else "refused", person,
            score(r.similarity), score(r.antispoof), score(r.temporal), r.reason)


class AuditTable(QTableWidget):
    """Read-only table of audit rows; ``show_rows`` replaces its content."""

    def __init__(self, parent=None):
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        for i in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(i, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.setStyleSheet("QTableWidget { background:#ffffff; color:#1a1a1a; }")

    def show_rows(self, rows: Sequence[AuditRow]) -> None:
        """Show `rows` in the given order (``AuditLog.recent`` gives newest first)."""
        self.setRowCount(len(rows))
        for i, r in enumerate(rows):
            for j, text in enumerate(row_cells(r)):
                item = QTableWidgetItem(text)
                if j >= 3 and j < 6:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if j == 1:
                    item.setForeground(GRANTED_COLOUR if r.granted else REFUSED_COLOUR)
                item.setToolTip(text)
                self.setItem(i, j, item)
