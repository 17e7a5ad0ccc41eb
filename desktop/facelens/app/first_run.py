"""The first-run wizard: source (with a preview), enrol yourself, data folder, kiosk PIN and
encryption. Every page can be skipped; Help > First-run wizard opens it again.

It drives the main window's own actions (open_source, enrol_from_live, the gallery), so what
the wizard sets up is exactly what the window runs.
"""

from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from ..errors import FaceLensError
from ..kiosk.pin import AdminPin
from ..live.sources import list_cameras

DONE_KEY = "firstrun/done"
EMPTY_PEOPLE_HINT = ("No one is enrolled yet. Click a face in the video (or People > Enrol "
                     "from live view), or use \"New from photos...\" below.")


class SourcePage(QWizardPage):
    """Pick a camera or type a file, URL or folder; Preview opens it in the window."""

    def __init__(self, window):
        super().__init__()
        self.window_ = window
        self.setTitle("Camera or source")
        self.setSubTitle("Choose what FaceLens watches. Preview opens it in the main window.")
        self.source = QComboBox()
        self.source.setEditable(True)
        self.source.lineEdit().setPlaceholderText("camera index, video file, URL or folder")
        self.find = QPushButton("Find cameras")
        self.find.clicked.connect(self.find_cameras)
        self.preview_button = QPushButton("Preview")
        self.preview_button.clicked.connect(self.preview)
        self.picture = QLabel("No preview yet.")
        self.picture.setMinimumSize(320, 200)
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status = QLabel()
        self.status.setWordWrap(True)
        # Two lines kept for the status, so a long path does not push it over the preview.
        self.status.setMinimumHeight(2 * self.status.fontMetrics().lineSpacing() + 4)
        row = QHBoxLayout()
        row.addWidget(self.source, 1)
        row.addWidget(self.find)
        row.addWidget(self.preview_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.status)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._copy_frame)

    def find_cameras(self) -> list[int]:
        cams = list_cameras()
        self.source.clear()
        self.source.addItems([str(i) for i in cams])
        self.status.setText(f"{len(cams)} camera(s) found." if cams else
                            "No camera found: type a video file, URL or folder instead.")
        return cams

    def preview(self) -> bool:
        text = self.source.currentText().strip()
        if not text:
            self.status.setText("Source: nothing chosen; pick a camera or type a path or URL.")
            return False
        ok = self.window_.open_source(text)
        self.status.setText(f"Opening {text}..." if ok else
                            f"Source {text}: cannot be opened; see the main window's message.")
        if ok:
            self.timer.start(200)
        return ok

    def _copy_frame(self) -> None:
        pix = self.window_.video.grab()
        if self.window_.video.scene is not None:
            self.status.setText(f"Previewing {self.source.currentText().strip()}: "
                                "it stays open in the main window.")
        if not pix.isNull():
            self.picture.setPixmap(pix.scaled(self.picture.size(),
                                              Qt.AspectRatioMode.KeepAspectRatio,
                                              Qt.TransformationMode.SmoothTransformation))

    def cleanupPage(self) -> None:  # noqa: N802 (Qt name)
        self.timer.stop()


class EnrolPage(QWizardPage):
    """Enrol yourself from the live view through the window's own enrol dialog."""

    def __init__(self, window):
        super().__init__()
        self.window_ = window
        self.setTitle("Enrol yourself")
        self.setSubTitle("Look at the camera, then capture your face and type your name. "
                         "One photo is enough; more can be added from People later.")
        self.capture = QPushButton("Capture my face from the live view")
        self.capture.clicked.connect(lambda: self.window_.enrol_from_live())  # largest face
        self.people = QLabel()
        layout = QVBoxLayout(self)
        layout.addWidget(self.capture)
        layout.addWidget(self.people)
        self.window_.people.changed.connect(self.refresh)
        self.window_.people.list.model().rowsInserted.connect(self.refresh)

    def initializePage(self) -> None:  # noqa: N802 (Qt name)
        self.refresh()

    def refresh(self, *_) -> None:
        names = self.window_.people.names()
        self.people.setText(f"Enrolled: {', '.join(names)}" if names else "No one enrolled yet.")
        self.capture.setEnabled(self.window_.controller is not None)


class DataFolderPage(QWizardPage):
    """Where the gallery, attendance and kiosk files live (used from the next start)."""

    def __init__(self, window):
        super().__init__()
        self.window_ = window
        self.setTitle("Data folder")
        self.setSubTitle("The gallery, attendance log and kiosk settings are kept here. A new "
                         f"folder is used from the next start; people enrolled now stay in "
                         f"{window.home} (move them with People > Export and Import).")
        self.folder = QLineEdit(str(window.qsettings.value("data/home") or window.home))
        browse = QPushButton("Browse...")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout(self)
        row.addWidget(self.folder, 1)
        row.addWidget(browse)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Data folder", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def validatePage(self) -> bool:  # noqa: N802 (Qt name)
        text = self.folder.text().strip()
        if not text or Path(text).resolve() == self.window_.home.resolve():
            return True
        path = Path(text).expanduser()
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self.setSubTitle(f"Data folder {path}: cannot be created ({exc}); choose another.")
            return False
        self.window_.qsettings.setValue("data/home", str(path))
        self.window_._notice(f"The data folder {path} is used from the next start.")
        return True


class SecurityPage(QWizardPage):
    """Optionally set the kiosk admin PIN and encrypt the gallery."""

    def __init__(self, window):
        super().__init__()
        self.window_ = window
        self.setTitle("Kiosk PIN and encryption (optional)")
        self.setSubTitle("Leave these empty to skip; both can be set later "
                         "(`facelens kiosk set-pin`, `facelens gallery encrypt`).")
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setPlaceholderText("4 to 12 digits (0-9)")
        self.encrypt = QCheckBox("Encrypt the gallery (AES-256-GCM)")
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.again = QLineEdit()
        self.again.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020")
        form = QFormLayout(self)
        form.addRow("Kiosk admin PIN", self.pin)
        form.addRow(self.encrypt)
        form.addRow("Passphrase", self.passphrase)
        form.addRow("Passphrase again", self.again)
        form.addRow(self.error)

    def initializePage(self) -> None:  # noqa: N802 (Qt name)
        if AdminPin(self.window_.home).is_set():
            self.pin.setEnabled(False)
            self.pin.setPlaceholderText("already set (change it in the kiosk's admin view)")
        gallery = self.window_.gallery
        if gallery is not None and gallery.encrypted:
            self.encrypt.setChecked(True)
            self.encrypt.setEnabled(False)
            self.encrypt.setText("The gallery is already encrypted")

    def validatePage(self) -> bool:  # noqa: N802 (Qt name)
        """Apply what was filled in; on bad input say why and stay on the page."""
        pin = self.pin.text()
        wants_encryption = self.encrypt.isChecked() and self.encrypt.isEnabled()
        if wants_encryption:
            if self.window_.gallery is None:
                return self._fail("Encryption: the gallery is not open yet; wait for the "
                                  "models to load, or use `facelens gallery encrypt` later")
            if len(self.passphrase.text()) < 8:
                return self._fail("Passphrase: shorter than 8 characters; type a longer one")
            if self.passphrase.text() != self.again.text():
                return self._fail("Passphrase: the two entries differ; type it again")
        try:
            if pin and self.pin.isEnabled():
                AdminPin(self.window_.home).set(pin)
                self.pin.clear()
                self.pin.setEnabled(False)
            if wants_encryption:
                self.window_.gallery.encrypt(self.passphrase.text())
                self.encrypt.setEnabled(False)
        except FaceLensError as exc:
            return self._fail(f"{exc}; correct it or leave the field empty")
        self.passphrase.clear()
        self.again.clear()
        return True

    def _fail(self, text: str) -> bool:
        self.error.setText(text)
        return False


class FirstRunWizard(QWizard):
    """The wizard; finishing or skipping (Cancel) marks the first run as done."""

    def __init__(self, window):
        super().__init__(window)
        self.setWindowTitle("Welcome to FaceLens")
        self.setMinimumSize(620, 500)  # the preview and two lines of status fit on page 1
        self.setOption(QWizard.WizardOption.HaveCustomButton1, True)
        self.setButtonText(QWizard.WizardButton.CustomButton1, "Skip setup")
        self.setButtonText(QWizard.WizardButton.CancelButton, "Close")
        self.customButtonClicked.connect(lambda _: self.reject())
        self.pages = {"source": SourcePage(window), "enrol": EnrolPage(window),
                      "folder": DataFolderPage(window), "security": SecurityPage(window)}
        for page in self.pages.values():
            self.addPage(page)
        self.finished.connect(lambda _: window.qsettings.setValue(DONE_KEY, True))


def open_wizard(window) -> FirstRunWizard:
    """Open the wizard (non-blocking) on `window`; kept on ``window.first_run``."""
    window.first_run = FirstRunWizard(window)
    window.first_run.open()
    return window.first_run


def maybe_open_wizard(window) -> FirstRunWizard | None:
    """Open the wizard unless it was finished or skipped before."""
    if str(window.qsettings.value(DONE_KEY, "false")).lower() == "true":
        return None
    return open_wizard(window)


class EmptyPeopleHint(QLabel):
    """Shown above the People list while it is empty: says how to enrol someone."""

    def __init__(self, people):
        super().__init__(EMPTY_PEOPLE_HINT)
        self.people = people
        self.setWordWrap(True)
        model = people.list.model()
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self.refresh)
        people.search.textChanged.connect(self.refresh)
        self.refresh()

    def refresh(self, *_) -> None:
        if not (shiboken6.isValid(self) and shiboken6.isValid(self.people.list)):
            return  # the window is being destroyed: its list empties as it goes
        self.setVisible(self.people.list.count() == 0 and not self.people.search.text())


def install(window) -> None:
    """Add Help > First-run wizard and the empty-People hint to `window`."""
    help_menu = getattr(window, "help_menu", None) or window.menuBar().addMenu("&Help")
    window._action(help_menu, "&First-run wizard...", lambda: open_wizard(window))
    window.people.empty_hint = EmptyPeopleHint(window.people)
    window.people.layout().insertWidget(1, window.people.empty_hint)
