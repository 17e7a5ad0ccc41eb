"""The people manager: thumbnails and template counts, search, rename, add photos, remove,
export and import of the gallery; the selected person's photos, each of which can be deleted."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..errors import FaceLensError
from ..gallery.names import name_key
from .folders import FolderMemory
from .thumbs import thumb_pixmap

GALLERY_FILTER = "FaceLens gallery (*.flgallery *.zip *.db);;All files (*)"
PHOTO_PX = 64


class PeopleManager(QWidget):
    """Lists the gallery's people; edits go straight to the gallery and emit ``changed``."""

    changed = Signal()
    addPhotosRequested = Signal(str)  # person name ("" for a new person)
    message = Signal(str)

    def __init__(self, gallery=None, parent=None):
        super().__init__(parent)
        self.gallery = gallery
        self._photos_of: str | None = None  # whose photos the photo strip shows (None: stale)
        self._shown_photos_of: str | None = None
        self.folders: FolderMemory | None = None  # set by the window: the last folder used
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search people")
        self.search.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.list.setIconSize(QSize(48, 48))
        self.damage_note = QLabel("")  # templates that cannot be read, for the admin
        self.damage_note.setObjectName("damaged_templates")
        self.damage_note.setWordWrap(True)
        self.damage_note.setStyleSheet("color: #b3261e;")
        self.damage_note.setVisible(False)
        self.buttons = {}
        grid = QGridLayout()
        for i, (key, text, slot) in enumerate([
                ("add", "Add photos...", self._add_photos),
                ("rename", "Rename...", self._rename),
                ("remove", "Remove...", self._remove),
                ("new", "New from photos...", lambda: self.addPhotosRequested.emit("")),
                ("export", "Export...", self._export),
                ("import", "Import...", self._import)]):
            button = QPushButton(text)
            button.clicked.connect(slot)
            self.buttons[key] = button
            grid.addWidget(button, i // 2, i % 2)
        self.photos_label = QLabel("Photos")
        self.photos = QListWidget()  # the selected person's templates
        self.photos.setViewMode(QListWidget.ViewMode.IconMode)
        self.photos.setIconSize(QSize(PHOTO_PX, PHOTO_PX))
        self.photos.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.photos.setMovement(QListWidget.Movement.Static)
        self.photos.setMaximumHeight(PHOTO_PX * 2 + 40)
        self.buttons["delete_photo"] = QPushButton("Delete photo...")
        self.buttons["delete_photo"].clicked.connect(self._delete_photo)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.damage_note)
        layout.addWidget(self.list, 2)
        layout.addLayout(grid)
        layout.addWidget(self.photos_label)
        layout.addWidget(self.photos, 1)
        layout.addWidget(self.buttons["delete_photo"])
        self.photos.itemSelectionChanged.connect(self._update_buttons)
        self.search.textChanged.connect(self._filter)
        self.list.itemSelectionChanged.connect(self._update_buttons)
        self.list.itemDoubleClicked.connect(lambda _: self._rename())
        self.refresh()

    def set_gallery(self, gallery) -> None:
        self.gallery = gallery
        self.refresh()

    def names(self) -> list[str]:
        return [p.name for p in self.gallery.people()] if self.gallery else []

    def refresh(self) -> None:
        """Reload the list from the gallery, keeping the selection."""
        keep = self.selected()
        self.list.blockSignals(True)  # one update at the end, which keeps the photo selected
        self.list.clear()
        people = self.gallery.people() if self.gallery else []
        damaged = list(getattr(self.gallery, "damaged", []))
        self._show_damaged(damaged)
        for person in people:
            n = person.templates
            bad = sum(d.person_id == person.id for d in damaged)
            note = f"  ⚠ {bad} damaged" if bad else ""
            item = QListWidgetItem(QIcon(thumb_pixmap(person.thumbnail, 48)),
                                   f"{person.name}\n{n} photo{'s' if n != 1 else ''}{note}")
            item.setData(Qt.ItemDataRole.UserRole, person.name)
            self.list.addItem(item)
            if person.name == keep:
                item.setSelected(True)
        self.list.blockSignals(False)
        self._filter(self.search.text())
        self._photos_of = None  # the selected person's photos may have changed too
        self._update_buttons()

    def _show_damaged(self, damaged: list) -> None:
        """Say which templates cannot be read (they are not searched) and what to do."""
        self.damage_note.setVisible(bool(damaged))
        if damaged:
            self.damage_note.setText(
                f"⚠ {len(damaged)} damaged template{'s' if len(damaged) != 1 else ''}, not "
                "searched:\n" + "\n".join(d.message() for d in damaged))

    def selected(self) -> str | None:
        items = self.list.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def select(self, name: str) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setSelected(item.data(Qt.ItemDataRole.UserRole) == name)

    def visible_names(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if not self.list.item(i).isHidden()]

    def _filter(self, text: str) -> None:
        needle = name_key(text.strip())  # any case and Unicode spelling: "JOSÉ" finds "José"
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(needle not in name_key(item.data(Qt.ItemDataRole.UserRole)))

    def _update_buttons(self) -> None:
        has = self.selected() is not None
        for key in ("add", "rename", "remove"):
            self.buttons[key].setEnabled(has)
        for key in ("new", "export", "import"):
            self.buttons[key].setEnabled(self.gallery is not None)
        if self._photos_of != self.selected():
            self.show_photos()
        self.buttons["delete_photo"].setEnabled(self.selected_photo() is not None)

    def _run(self, action, done: str) -> bool:
        try:
            action()
        except (FaceLensError, OSError, ValueError, KeyError) as exc:
            QMessageBox.warning(self, "FaceLens", str(exc))
            return False
        self.refresh()
        self.changed.emit()
        self.message.emit(done)
        return True

    def _add_photos(self) -> None:
        if self.selected():
            self.addPhotosRequested.emit(self.selected())

    def _rename(self) -> None:
        old = self.selected()
        if old is None:
            return
        new, ok = QInputDialog.getText(self, "Rename", f"New name for {old}:", text=old)
        if ok and new.strip() and new.strip() != old:
            self.rename(old, new.strip())

    def rename(self, old: str, new: str) -> bool:
        if self._run(lambda: self.gallery.rename(old, new), f"Renamed {old} to {new}"):
            self.select(new)
            return True
        return False

    def _remove(self) -> None:
        name = self.selected()
        if name is None:
            return
        answer = QMessageBox.question(
            self, "Remove person",
            f"Remove {name} and all their photos from the gallery? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            self._run(lambda: self.gallery.remove(name), f"Removed {name}")

    def _export(self) -> None:
        start = self.folders.start("gallery.flgallery") if self.folders else "gallery.flgallery"
        path, _ = QFileDialog.getSaveFileName(self, "Export gallery", start, GALLERY_FILTER)
        if path and self.folders:
            self.folders.remember(path)
        if path:
            self._run(lambda: self.gallery.export(path), f"Gallery exported to {path}")

    def _import(self) -> None:
        start = self.folders.start() if self.folders else ""
        path, _ = QFileDialog.getOpenFileName(self, "Import gallery", start, GALLERY_FILTER)
        if path and self.folders:
            self.folders.remember(path)
        if path:
            self._run(lambda: self.gallery.import_(path), f"Gallery imported from {path}")

    # -- one person's photos (templates) ----------------------------------------------------
    def show_photos(self) -> None:
        """Fill the photo strip with the selected person's templates."""
        name = self.selected()
        keep = self.selected_photo() if name == self._shown_photos_of else None
        self._photos_of = self._shown_photos_of = name
        self.photos.clear()
        if name is None or self.gallery is None:
            self.photos_label.setText("Photos: select a person")
            return
        try:
            templates = self.gallery.templates(name)
        except FaceLensError as exc:
            self.photos_label.setText(f"Photos of {name}: {exc}")
            return
        self.photos_label.setText(f"Photos of {name} ({len(templates)})")
        for i, t in enumerate(templates, 1):
            item = QListWidgetItem(QIcon(thumb_pixmap(t.thumbnail, PHOTO_PX)), str(i))
            item.setData(Qt.ItemDataRole.UserRole, t.id)
            tip = [t.source or "no source recorded", f"added {t.created}"]
            if not t.searched:
                tip.append(f"made by another model ({t.model_id}): not used for recognition")
            item.setToolTip("\n".join(tip))
            self.photos.addItem(item)
            item.setSelected(t.id == keep)

    def photo_ids(self) -> list[int]:
        """Template ids shown in the photo strip, in order."""
        return [self.photos.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.photos.count())]

    def selected_photo(self) -> int | None:
        items = self.photos.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def select_photo(self, template_id: int) -> None:
        for i in range(self.photos.count()):
            item = self.photos.item(i)
            item.setSelected(item.data(Qt.ItemDataRole.UserRole) == template_id)

    def _delete_photo(self) -> None:
        name, tid = self.selected(), self.selected_photo()
        if name is None or tid is None:
            return
        last = self.photos.count() == 1
        text = (f"Delete this photo of {name}? Its face template is removed from the gallery; "
                "this cannot be undone.")
        if last:
            text += f"\n\nIt is {name}'s only photo: {name} will no longer be recognised."
        answer = QMessageBox.question(self, "Delete photo", text,
                                      QMessageBox.StandardButton.Yes
                                      | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_photo(name, tid)

    def delete_photo(self, name: str, template_id: int) -> bool:
        """Delete one template of `name` (after confirmation, from the button)."""
        return self._run(lambda: self.gallery.remove_template(name, template_id),
                         f"Deleted a photo of {name}")
