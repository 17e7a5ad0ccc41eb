"""The main window: live view, people, verify and style tabs, menus, status bar."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QTabWidget,
)

from ..attendance import AttendanceFault, AttendanceStore
from ..errors import FaceLensError, GalleryError
from ..gallery.central_limits import PACK_SWITCH, is_central, not_on_central
from ..gallery.db import GalleryLocked
from ..images import encode_jpeg
from ..live.recognise import FaceCapture, LiveConfig
from ..live.scene import NOT_RECOGNISED, RECOGNISED, Scene
from ..live.sources import SourceEvent, list_cameras, parse_source
from ..settings import Settings
from ..sqlite_access import waiting_at_most
from . import first_run
from .central_status import CentralStatusLabel
from .corrections_hook import hook_corrections
from .enrol_files import EnrolFilesDialog
from .enrol_live import EnrolLiveDialog
from .folders import FolderMemory
from .live_controller import AttendanceLogger, EngineLoader, LiveController
from .people_manager import PeopleManager
from .preview import SourcePreview
from .settings_dialog import SettingsDialog
from .status_bar import LiveStatusBar
from .unknown_hook import follow_settings as follow_unknown_settings
from .unknown_hook import hook_unknowns
from .verify_panel import VerifyPanel
from .video_view import VideoView

if TYPE_CHECKING:  # the gallery (FAISS) loads with the models, after the first frame is shown
    from ..engine.recognizer import FaceEngine
    from ..gallery import Gallery

VIDEO_FILTER = "Videos (*.mp4 *.avi *.mkv *.mov *.webm *.m4v *.mpg);;All files (*)"
EVENT_MESSAGES = {"ended", "failed", "reconnecting", "stopped", "error"}


GALLERY_LOCK_WAIT_S = 0.5  # the window waits this long for a locked gallery, then retries
GALLERY_RETRY_MS = 2000


def live_config(settings: Settings, default_threshold: float, pack: str | None = None,
                gallery_size: int | None = None, home: Path | None = None) -> LiveConfig:
    """The live pipeline's knobs; the threshold follows `far` over `gallery_size` templates."""
    return LiveConfig(threshold=settings.match_threshold(default_threshold, pack, gallery_size,
                                                         home),
                      detect_scale=settings.detect_scale, min_face=settings.min_face,
                      recheck_frames=settings.recheck_frames, detect_every=settings.detect_every)


_LABEL_BGR = {RECOGNISED: (80, 220, 80), NOT_RECOGNISED: (60, 60, 230)}


def style_labels(scene: Scene) -> list:
    """The scene's face labels for the style panel to draw over styled video (if asked)."""
    from ..style.overlay import Label

    return [Label(tuple(int(v) for v in f.box), f.label, _LABEL_BGR.get(f.state, (0, 190, 255)))
            for f in scene.faces]


class MainWindow(QMainWindow):
    """FaceLens' window. Models run on worker threads; this class only wires and shows."""

    def __init__(self, home: Path, settings: Settings | None = None, engine=None,
                 source: str | None = None, qsettings: QSettings | None = None,
                 reader_options: dict | None = None, style_panel: bool = True):
        super().__init__()
        self.home = Path(home)
        self.settings = settings or Settings.load(self.home)
        self.qsettings = qsettings or QSettings("FaceLens", "FaceLens")
        self.reader_options = reader_options or {}
        self.engine = None
        self.gallery: Gallery | None = None
        self.controller: LiveController | None = None
        self.engine_lock = threading.RLock()
        self.pending_source = source
        self.last_event: SourceEvent | None = None
        self.enrol_dialog: EnrolLiveDialog | None = None
        self.files_dialog: EnrolFilesDialog | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.attendance: AttendanceLogger | None = None
        self.attendance_view = None  # AttendanceView, opened from the Tools menu
        self.kiosk = None  # KioskSession while the kiosk runs
        self.message_box: QMessageBox | None = None
        self.about_dialog = None  # AboutDialog, from Help > About
        self.watcher = None  # GalleryWatcher: another process's gallery changes
        self.folders = FolderMemory(self.qsettings)  # where file dialogs open
        self.preview: SourcePreview | None = None  # the source's frames while models load
        self.setWindowTitle("FaceLens")
        self.video = VideoView()
        self.setCentralWidget(self.video)
        self.status = LiveStatusBar()
        self.setStatusBar(self.status)
        self.central_status = CentralStatusLabel(lambda: self.gallery)  # a central gallery
        self.status.insertPermanentWidget(0, self.central_status)
        self.people = PeopleManager()
        self.verify = VerifyPanel()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.people, "People")
        self.tabs.addTab(self.verify, "Verify")
        self.style_panel = self._make_style_panel() if style_panel else None
        self.dock = QDockWidget("Panels", self)
        self.dock.setObjectName("panels")
        self.dock.setWidget(self.tabs)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.dock)
        self.resizeDocks([self.dock], [360], Qt.Orientation.Horizontal)  # the video fills the rest
        self._build_menus()
        first_run.install(self)  # Help > First-run wizard, and the empty-People hint
        self.video.faceClicked.connect(self._face_clicked)
        self.corrections = hook_corrections(self)  # right-click: "This is not X" / "This is Y"
        self.people.folders = self.folders
        self.people.changed.connect(self._gallery_changed)
        self.people.addPhotosRequested.connect(self.enrol_from_files)
        self.people.message.connect(lambda m: self.status.showMessage(m, 5000))
        self.verify.claimChanged.connect(self._claim_changed)
        self.loader = EngineLoader(self)
        self.loader.progress.connect(lambda m, f: self.video.set_message(f"{m} ({f:.0%})"))
        self.loader.progress.connect(  # e.g. "model pack lite was incomplete; rebuilt from ..."
            lambda m, f: self._notice(m) if "incomplete; rebuilt" in m else None)
        self.loader.loaded.connect(self.set_engine)
        self.loader.failed.connect(self._engine_failed)
        self.resize(1200, 720)
        self._restore_state()
        self.set_attendance_mode(self.settings.attendance_mode)
        if engine is not None:
            self.set_engine(engine)
        else:
            self.preview = SourcePreview.start(self.video, "0" if source is None else source,
                                               self, **self.reader_options)
            self.loader.load(self.settings.model_pack, self.settings.provider)

    # -- setup ---------------------------------------------------------------------------
    def _make_style_panel(self):
        try:
            from .style_panel import StylePanel

            panel = StylePanel(self.home, self.settings.provider)
        except Exception:  # the style panel is optional; recognition works without it
            return None
        scroll = QScrollArea()  # the style panel is wide; the dock stays narrow beside the video
        scroll.setWidget(panel)
        scroll.setWidgetResizable(True)
        self.tabs.addTab(scroll, "Style")
        self.style_tab = scroll
        return panel

    def _action(self, menu, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        self.file_menu = bar.addMenu("&File")
        src = bar.addMenu("&Source")
        self.actions = {
            "camera": self._action(src, "&Camera...", self.choose_camera, "Ctrl+K"),
            "file": self._action(src, "Video &file...", self.choose_file, "Ctrl+O"),
            "url": self._action(src, "Stream &URL (RTSP/HTTP)...", self.choose_url, "Ctrl+U"),
            "folder": self._action(src, "Image f&older (slideshow)...", self.choose_folder,
                                   "Ctrl+Shift+O"),
            "stop": self._action(src, "&Stop", self.stop_source, "Ctrl+."),
        }
        self.actions["quit"] = self._action(self.file_menu, "&Quit", self.close,
                                            QKeySequence.StandardKey.Quit)
        people = bar.addMenu("&People")
        self.actions["enrol_live"] = self._action(
            people, "&Enrol face from live view", lambda: self.enrol_from_live(None), "Ctrl+E")
        self.actions["enrol_files"] = self._action(
            people, "Enrol from &photos...", lambda: self.enrol_from_files(""), "Ctrl+Shift+E")
        self.actions["people"] = self._action(
            people, "&Manage people", lambda: self.show_tab(self.people), "Ctrl+P")
        self.tools_menu = bar.addMenu("&Tools")
        self.actions["verify"] = self._action(
            self.tools_menu, "&Verify a claimed identity", lambda: self.show_tab(self.verify),
            "Ctrl+Shift+V")
        self.actions["settings"] = self._action(
            self.tools_menu, "&Settings...", self.open_settings, "Ctrl+,")
        self.actions["fullscreen"] = self._action(
            self.tools_menu, "&Full screen", self._toggle_full_screen, "F11")
        self.tools_menu.addSeparator()
        self.actions["attendance"] = self._action(
            self.tools_menu, "&Attendance mode", self.set_attendance_mode, "Ctrl+Shift+A")
        self.actions["attendance"].setCheckable(True)
        self.actions["attendance_report"] = self._action(
            self.tools_menu, "Attendance &report...", self.open_attendance_report, "Ctrl+Shift+R")
        self.actions["kiosk"] = self._action(
            self.tools_menu, "&Kiosk mode...", self.open_kiosk, "Ctrl+Shift+K")
        self.help_menu = bar.addMenu("&Help")
        self.actions["about"] = self._action(self.help_menu, "&About FaceLens", self.open_about)

    def show_tab(self, widget) -> None:
        self.dock.show()
        self.tabs.setCurrentWidget(widget)

    def _restore_state(self) -> None:
        geometry = self.qsettings.value("window/geometry")
        state = self.qsettings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        tab = self.qsettings.value("window/tab")
        if tab is not None:
            self.tabs.setCurrentIndex(int(tab))

    def save_state(self) -> None:
        self.qsettings.setValue("window/geometry", self.saveGeometry())
        self.qsettings.setValue("window/state", self.saveState())
        self.qsettings.setValue("window/tab", self.tabs.currentIndex())
        self.qsettings.sync()

    # -- engine and gallery ----------------------------------------------------------------
    def set_engine(self, engine: FaceEngine) -> None:
        """Use `engine`: open the gallery for its model, start the live pipeline."""
        if self.controller is not None:
            self.controller.stop()
        self.engine = engine
        if self.gallery is None or self.gallery.model_id != engine.model_id:
            self.gallery = self._open_gallery(engine)
            if self.gallery is None:
                return
            if self._reembed_first(engine):
                return  # set_engine runs again when the gallery has the new templates
        self.people.set_gallery(self.gallery)
        if self.gallery.damaged:  # the People tab lists them; the status bar says so at once
            self._notice(f"Gallery: {len(self.gallery.damaged)} damaged template(s) not "
                         f"searched: {self.gallery.damaged[0].message()} (see People)")
        self.verify.set_names(self.people.names())
        self._watch_gallery()
        self.controller = LiveController(
            engine, lambda: self.gallery,
            live_config(self.settings, engine.default_threshold, engine.pack_name,
                        self.gallery.count_templates(), self.home), self, self.engine_lock,
            **self.reader_options)
        self.controller.sceneReady.connect(self._show_scene)
        self.controller.sourceEvent.connect(self._source_event)
        self.controller.captured.connect(self._captured)
        self.controller.set_verify(self.verify.claimed)
        self.controller.attendance = self.attendance
        if getattr(self, "unknown_panel", None) is None:  # review of unknown faces (if on)
            self.unknown_panel = hook_unknowns(self)
        fell_back = bool(getattr(engine, "cuda_fell_back", False))
        self.status.set_engine(engine.provider, engine.pack_name, fell_back)
        self.video.set_message("")
        if fell_back:
            self._notice("CUDA could not be loaded: running on the CPU instead.")
        source = self.pending_source
        self.pending_source = None
        if source is None and self.last_event is None:
            source = "0"  # a webcam app starts on the first camera; a failure says so
        if source is not None:
            self.open_source(source)

    def _reembed_first(self, engine: FaceEngine) -> bool:
        """Start re-embedding the stored face crops for a new pack's model, if any lack one."""
        from .reembed import GalleryReembedder

        try:
            pending = self.gallery.pending_reembed()
        except FaceLensError as exc:
            self._notice(str(exc))
            return False
        if not pending:
            return False
        if is_central(self.gallery):  # its templates are the server's: not re-embedded here
            self._notice(f"{pending} stored face(s) have no template of {engine.model_id} and "
                         f"cannot get one here: {not_on_central(PACK_SWITCH)}")
            return False
        self.reembedder = GalleryReembedder(self.gallery, engine, self.engine_lock, self)

        def done(report) -> None:
            self.reembed_report = report
            if report.people_without_crops:
                self._notice("Enrol again (no stored face crop): "
                             + ", ".join(report.people_without_crops))
            self.set_engine(engine)

        self.reembedder.finished.connect(done)
        self.reembedder.failed.connect(self._engine_failed)
        self.reembedder.start()
        return True

    def _open_gallery(self, engine: FaceEngine) -> Gallery | None:
        """The data folder's gallery; an encrypted one asks for its passphrase (3 tries)
        unless $FACELENS_PASSPHRASE gives it. On failure the reason is shown over the
        video and None is returned: recognising against no gallery would mislabel everyone.
        """
        from ..gallery import open_for_home

        answers: list[str | None] = []
        last = {"error": ""}

        def ask() -> str | None:
            text, ok = QInputDialog.getText(self, "Encrypted gallery",
                                            f"{last['error']}Passphrase of the gallery:",
                                            QLineEdit.EchoMode.Password)
            answers.append(text if ok and text else None)
            return answers[-1]

        for _ in range(3):
            asked_before = len(answers)
            try:
                with waiting_at_most(GALLERY_LOCK_WAIT_S, notice=lambda text: None):
                    return open_for_home(self.home, engine.model_id, engine.dim,
                                         prompt=False, ask=ask)  # (never freezes the window)
            except GalleryLocked:  # another process holds it: retry in the background
                self.video.set_message("Waiting for another FaceLens process to release the "
                                       f"gallery; trying again every {GALLERY_RETRY_MS // 1000}"
                                       " s...")
                from PySide6.QtCore import QTimer  # (kept off the shared import line)

                QTimer.singleShot(GALLERY_RETRY_MS, lambda: self._retry_gallery(engine))
                return None
            except GalleryError as exc:
                last["error"] = f"{exc}\n\n"
                if len(answers) == asked_before or answers[-1] is None:
                    break  # not a passphrase problem, or the user cancelled
        message = f"Gallery unavailable: {last['error'].strip()}"
        self.video.set_message(message)
        self._notice(message)
        return None

    def _retry_gallery(self, engine) -> None:
        if self.engine is engine and self.gallery is None:
            self.set_engine(engine)

    def _engine_failed(self, message: str) -> None:
        self.video.set_message(message)
        self._notice(message)

    def _notice(self, text: str) -> None:
        self.status.showMessage(text, 15000)

    def _gallery_changed(self) -> None:
        self.verify.set_names(self.people.names())
        if self.controller is not None:
            self._follow_gallery_size()
            self.controller.gallery_changed()

    def _gallery_size(self) -> int:
        return self.gallery.count_templates() if self.gallery is not None else 0

    def _follow_gallery_size(self) -> None:
        """A `far` target: the threshold rises as people are enrolled (and falls back)."""
        if self.controller is not None and self.engine is not None:
            self.controller.config.threshold = self.settings.match_threshold(
                self.engine.default_threshold, self.engine.pack_name, self._gallery_size(),
                self.home)

    # -- sources -----------------------------------------------------------------------------
    def open_source(self, text: str) -> bool:
        """Open a camera index, video file, URL or image folder given as text."""
        try:
            spec = parse_source(text)
        except FaceLensError as exc:
            self._source_event(SourceEvent("failed", str(exc)))
            return False
        if self.controller is None:
            self.pending_source = text
            return True
        self.last_event = None
        self.status.set_source(spec.describe())
        self.video.set_message(f"Opening {spec.describe()}...")
        preview, self.preview = self.preview, None
        reader = preview.hand_over(spec) if preview is not None else None
        self.controller.start(spec, reader)
        for event in preview.events if reader is not None else ():
            self._source_event(event)  # what the source did during the preview ("opened")
        return True

    def stop_source(self) -> None:
        if self.controller is not None:
            self.controller.stop()
        self.status.clear_rates()
        self.video.set_message("Stopped. Choose a source in the Source menu.")

    def choose_camera(self) -> None:
        cams = [str(i) for i in list_cameras()]
        if not cams:
            QMessageBox.information(self, "Cameras", "No camera found.")
            return
        cam, ok = QInputDialog.getItem(self, "Camera", "Cameras found:", cams, 0, False)
        if ok:
            self.open_source(cam)

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Video file", self.folders.start(),
                                              VIDEO_FILTER)
        if path:
            self.folders.remember(path)
            self.open_source(path)

    def choose_url(self) -> None:
        url, ok = QInputDialog.getText(self, "Stream", "RTSP or HTTP URL:",
                                       text="rtsp://")
        if ok and url.strip():
            self.open_source(url.strip())

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Image folder (slideshow)",
                                                self.folders.start())
        if path:
            self.folders.remember(path)
            self.open_source(path)

    def _source_event(self, event: SourceEvent) -> None:
        if event.kind in ("ended", "failed", "stopped"):
            self.status.clear_rates()  # the rates of a source that no longer runs
        if event.kind == "stopped" and self.last_event is not None \
                and self.last_event.kind in ("ended", "failed"):
            return  # the reason it stopped is already shown
        if event.kind in ("ended", "failed"):
            event = SourceEvent(event.kind, f"{event.message}. Choose a source in the Source menu.")
        self.last_event = event
        self.status.showMessage(event.message, 10000)
        if event.kind in EVENT_MESSAGES:
            self.video.set_message(event.message)
        elif event.kind in ("opened", "reconnected"):
            self.video.set_message("")

    def _show_scene(self) -> None:
        scene = self.controller.take_scene() if self.controller else None
        if scene is None:
            return
        self.video.show_scene(scene)
        if self.controller.pipeline.running:  # a scene painted after the end shows no rates
            self.status.show_scene(scene)
        self.verify.show_result(scene.verify)
        if self.style_panel is not None and self.tabs.currentWidget() is self.style_tab \
                and scene.image is not None:
            self.style_panel.submit_frame(scene.image, style_labels(scene))

    # -- enrolment ---------------------------------------------------------------------------
    def enrol_from_live(self, track_id: int | None = None) -> None:
        """Capture a face (clicked track, or the largest) on the worker; a dialog follows."""
        if self.controller is None:
            return
        self.status.showMessage("Capturing face...", 3000)
        self.controller.capture(track_id)

    def _captured(self, capture: FaceCapture) -> None:
        if self.corrections.take(capture):
            return
        if self.enrol_dialog is not None and self.enrol_dialog.isVisible():
            self.enrol_dialog.set_capture(capture)
            return
        self.enrol_dialog = EnrolLiveDialog(capture, self.people.names(), self)
        self.enrol_dialog.retry.connect(
            lambda: self.enrol_from_live(self.enrol_dialog.capture.track_id))
        self.enrol_dialog.enrolRequested.connect(self.enrol_capture)
        self.enrol_dialog.open()

    def enrol_capture(self, name: str, capture: FaceCapture) -> None:
        try:
            self.gallery.enrol(name, capture.embedding[None, :],
                               thumbnails=[encode_jpeg(capture.thumbnail)], sources=["live"],
                               crops=[capture.thumbnail])
        except FaceLensError as exc:
            QMessageBox.warning(self, "Enrol", str(exc))
            return
        self.people.refresh()
        self._gallery_changed()
        self.status.showMessage(f"Enrolled {name}", 5000)

    def enrol_from_files(self, name: str = "") -> EnrolFilesDialog | None:
        if self.engine is None:
            return None
        self.files_dialog = EnrolFilesDialog(self.engine, self.people.names(), name,
                                             self.settings.min_face, self.engine_lock, self)
        self.files_dialog.folders = self.folders
        self.files_dialog.finishedResults.connect(self._enrol_results)
        self.files_dialog.open()
        return self.files_dialog

    def _enrol_results(self, name: str, results) -> None:
        good = [r for r in results if r.ok]
        dialog = self.files_dialog
        if not good:
            return
        try:
            self.gallery.enrol(name, np.stack([r.embedding for r in good]),
                               thumbnails=[encode_jpeg(r.thumbnail) for r in good],
                               sources=[str(r.path) for r in good],
                               crops=[r.thumbnail for r in good])
        except FaceLensError as exc:
            QMessageBox.warning(self, "Enrol", str(exc))
            return
        self.people.refresh()
        self._gallery_changed()
        if dialog is not None:
            dialog.summary.setText(f"Enrolled {len(good)} photos for {name}.\n"
                                   + dialog.summary.text())
            dialog.paths.clear()
            dialog.list.clear()

    # -- verify ---------------------------------------------------------------------------------
    def _claim_changed(self, name) -> None:
        if self.controller is not None:
            self.controller.set_verify(name)

    # -- attendance ---------------------------------------------------------------------------
    def attendance_db(self) -> Path:
        from ..kiosk.factory import ATTENDANCE_DB

        return self.home / ATTENDANCE_DB

    def set_attendance_mode(self, on: bool) -> None:
        """Log recognised people (and count unknown faces) while on; the choice is saved."""
        on = bool(on)
        self.actions["attendance"].setChecked(on)
        if on != self.settings.attendance_mode:
            self.settings.attendance_mode = on
            self._save_settings(self.settings)
        if on and self.attendance is None:
            s = self.settings
            self.attendance = AttendanceLogger(lambda: AttendanceStore(
                self.attendance_db(), s.attendance_window_s, s.attendance_store_unknown),
                parent=self)
            self.attendance.logged.connect(self._attendance_logged)
            self.attendance.counted.connect(self._attendance_logged)
            self.attendance.fault.connect(self.status.attendance_fault)
            self.attendance.recovered.connect(lambda: self.status.attendance_fault(""))
        elif not on and self.attendance is not None:
            self.attendance.close()
            self.attendance = None
        if self.controller is not None:
            self.controller.attendance = self.attendance
        self.status.set_attendance(on)

    def _attendance_logged(self, entry=None) -> None:
        self.status.attendance_logged(entry)
        if self.attendance_view is not None and self.attendance_view.isVisible():
            self.attendance_view.refresh()

    def open_attendance_report(self):
        """The attendance report of this data folder, in its own (non-modal) window."""
        from .attendance_view import AttendanceView

        if self.attendance_view is None:
            try:
                store = AttendanceStore(self.attendance_db())
            except AttendanceFault as exc:
                self._notice(str(exc))
                return None
            self.attendance_view = AttendanceView(store)
        else:
            self.attendance_view.refresh()
        self.attendance_view.show()
        self.attendance_view.raise_()
        return self.attendance_view

    # -- kiosk --------------------------------------------------------------------------------
    def open_kiosk(self):
        """Run the kiosk full screen on this window's source; live view resumes after it."""
        from ..kiosk.pin import PinError
        from .kiosk_window import admin_pin, start_kiosk

        if self.kiosk is not None:
            self.kiosk.window.activateWindow()
            return self.kiosk
        if self.engine is None:
            self._notice("The model pack is still loading.")
            return None
        from .config_repair import load_kiosk_files, load_or_repair

        if load_or_repair(lambda: load_kiosk_files(self.home), self) is None:
            return None  # a damaged kiosk file the user chose not to reset
        try:
            admin_pin(self.home)  # asked first: the live view keeps running if it is missing
        except PinError as exc:
            self._message("Kiosk mode", f"Kiosk mode cannot start: {exc}.\n\nThe admin PIN "
                          "is what lets someone leave the kiosk (or change its settings). "
                          "Set one in a terminal with:\n\n    facelens kiosk set-pin")
            return None
        spec = self.controller.spec if self.controller is not None else None
        running = self.controller is not None and self.controller.pipeline.running
        source = str(spec.target) if spec is not None and running else "0"
        if self.controller is not None:
            self.controller.stop()  # one camera cannot be opened twice
        resume = source if running else None
        try:
            self.kiosk = start_kiosk(self.home, source, engine=self.engine)
        except FaceLensError as exc:  # kiosk settings, passphrase, databases
            self._resume(resume)
            self._message("Kiosk mode", f"Kiosk mode cannot start: {exc}")
            return None
        self.kiosk.window.closed.connect(lambda: self._kiosk_closed(resume))
        self.video.set_message("Kiosk mode is running; the live view resumes after it.")
        self.kiosk.window.showFullScreen()
        return self.kiosk

    def _kiosk_closed(self, source: str | None) -> None:
        if self.kiosk is not None:
            self.kiosk.stop()
            self.kiosk = None
        self._resume(source)

    def _resume(self, source: str | None) -> None:
        if source is not None:
            self.open_source(source)
        else:
            self.video.set_message("Stopped. Choose a source in the Source menu.")

    def _message(self, title: str, text: str) -> None:
        """A message box that does not block (tests and the live view keep running)."""
        self.message_box = QMessageBox(QMessageBox.Icon.Information, title, text,
                                       QMessageBox.StandardButton.Ok, self)
        self.message_box.open()

    # -- settings ---------------------------------------------------------------------------
    def open_settings(self) -> SettingsDialog:
        default = self.engine.default_threshold if self.engine else 0.5
        far = self.engine.threshold_far if self.engine else None
        note = ""
        if self.engine is not None and getattr(self.engine, "cuda_fell_back", False):
            note = "CUDA was requested but could not be loaded: running on the CPU."
        folder = self.qsettings.value("data/home") or str(self.home)
        self.settings_dialog = SettingsDialog(
            self.settings, default, far, folder, note, self, far_table=self._far_table(),
            pack=self.engine.pack_name if self.engine else None, gallery_size=self._gallery_size(),
            pack_refused=str(not_on_central(PACK_SWITCH)) if is_central(self.gallery) else "")
        self.settings_dialog.accepted.connect(
            lambda: self.apply_settings(self.settings_dialog.result_settings(),
                                        self.settings_dialog.data_folder()))
        self.settings_dialog.open()
        return self.settings_dialog

    def _save_settings(self, settings: Settings) -> None:
        """Save; a full disk or read-only folder: the change applies now, and says so."""
        try:
            settings.save(self.home)
        except FaceLensError as exc:
            self._notice(f"Applied for this session but not saved: {exc}")

    def apply_settings(self, new: Settings, data_folder: str | None = None) -> None:
        """Save `new`; live knobs apply at once, a new provider or pack reloads the engine."""
        old, self.settings = self.settings, new
        new.attendance_mode = old.attendance_mode  # set by its menu action, not the dialog
        self._save_settings(new)
        if data_folder and data_folder != str(self.home):
            self.qsettings.setValue("data/home", data_folder)
            self._notice(f"The data folder {data_folder} is used from the next start.")
        if self.controller is not None and self.engine is not None:
            fresh = live_config(new, self.engine.default_threshold, self.engine.pack_name,
                                self._gallery_size(), self.home)
            for key, value in vars(fresh).items():
                setattr(self.controller.config, key, value)
            follow_unknown_settings(self)
        if new.model_pack != old.model_pack and is_central(self.gallery):
            self._notice(str(not_on_central(PACK_SWITCH)))  # refused: the old pack stays
            new.model_pack = old.model_pack
            self._save_settings(new)
        if (old.provider, old.model_pack) != (new.provider, new.model_pack):
            spec = self.controller.spec if self.controller else None
            if self.controller is not None:
                self.controller.stop()
            self.pending_source = None if spec is None else str(spec.target)
            self.video.set_message(f"Loading {new.model_pack} on {new.provider}...")
            self.loader.load(new.model_pack, new.provider)

    # -- window ------------------------------------------------------------------------------
    def _toggle_full_screen(self) -> None:
        self.showNormal() if self.isFullScreen() else self.showFullScreen()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.save_state()
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None
        if self.preview is not None:
            self.preview.stop()
        if self.controller is not None:
            self.controller.stop()
        if self.attendance is not None:
            self.attendance.close(timeout=3.0)  # write what is still queued
            self.attendance = None
        if self.attendance_view is not None:
            self.attendance_view.close()
        super().closeEvent(event)

    # -- appended: gallery watching, verify face choice, About -------------------------------
    def _watch_gallery(self) -> None:
        """Refresh the people list when another process (CLI, kiosk) changes the gallery."""
        from .gallery_watch import GalleryWatcher

        if self.watcher is not None and self.watcher.path == self.gallery.path:
            return
        if self.watcher is not None:
            self.watcher.stop()
        self.watcher = GalleryWatcher(self.gallery.path, parent=self)
        self.watcher.changed.connect(self._gallery_changed_elsewhere)

    def _gallery_changed_elsewhere(self) -> None:
        # A change seen just before the gallery was closed can arrive after it: ignore it.
        if self.gallery is not None and not getattr(self.gallery, "closed", False):
            self._follow_gallery_size()
            self.people.refresh()
            self.verify.set_names(self.people.names())

    def _face_clicked(self, track_id: int) -> None:
        """In the Verify tab a click chooses the face to verify; elsewhere it enrols it."""
        if self.dock.isVisible() and self.tabs.currentWidget() is self.verify:
            self.choose_verify_face(track_id)
        else:
            self.enrol_from_live(track_id)

    def choose_verify_face(self, track_id: int | None) -> None:
        """Verify the face of track `track_id` (None: the largest face in view)."""
        if self.controller is not None:
            self.controller.choose_verify_face(track_id)
            self.status.showMessage("Verifying the highlighted face", 3000)

    def open_about(self):
        """Help > About: versions, provider, model pack and licences."""
        from .about import AboutDialog

        self.about_dialog = AboutDialog(self.engine, self)
        self.about_dialog.open()
        return self.about_dialog

    def _far_table(self):
        """The model pack's measured false-accept rates per threshold (None: not measured)."""
        from ..far_table import load_far_table

        return load_far_table(self.engine.pack_name) if self.engine is not None else None
