"""Open a kiosk station from a data folder: engine, gallery, config, audit, attendance."""

from __future__ import annotations

import os
from pathlib import Path

from ..attendance import AttendanceStore
from ..crypto import PASSPHRASE_ENV, CryptoError, Sealer
from ..errors import GalleryError
from .audit import AuditLog
from .config import KioskConfig
from .station import KioskStation

AUDIT_DB = "kiosk_audit.db"
ATTENDANCE_DB = "attendance.db"


def attendance_store(home: Path, config: KioskConfig | None = None) -> AttendanceStore:
    config = config or KioskConfig.load(home)
    return AttendanceStore(Path(home) / ATTENDANCE_DB, config.attendance_window_s,
                           config.store_unknown)


def sealer_for(config: KioskConfig, passphrase: str | None) -> Sealer | None:
    """The sealer when encryption is configured; CryptoError for a missing/wrong passphrase."""
    if not config.encryption_salt:
        return None
    passphrase = passphrase or os.environ.get(PASSPHRASE_ENV)
    if not passphrase:
        raise CryptoError(f"thumbnails are encrypted: set {PASSPHRASE_ENV} to the passphrase")
    sealer = Sealer(passphrase, bytes.fromhex(config.encryption_salt))
    sealer.verify(bytes.fromhex(config.encryption_check))
    return sealer


def open_station(home: Path, engine=None, passphrase: str | None = None,
                 config: KioskConfig | None = None) -> KioskStation:
    """Everything the kiosk needs, from the data folder `home`.

    GalleryError when the gallery is unencrypted although the settings (`gallery encrypt`)
    or the kiosk's own encryption (`kiosk set-passphrase`) say the installation encrypts.
    """
    from ..engine.recognizer import FaceEngine
    from ..gallery import open_for_home
    from ..settings import Settings

    config = config or KioskConfig.load(home)
    settings = Settings.load(home)
    engine = engine or FaceEngine.load(settings.model_pack, settings.provider)
    gallery = open_for_home(home, engine.model_id, engine.dim, passphrase=passphrase,
                            prompt=False)
    if config.encryption_salt and not gallery.encrypted:
        gallery.close()
        raise GalleryError(
            f"kiosk: the kiosk is encrypted (`facelens kiosk set-passphrase`) but the gallery "
            f"{gallery.path} is not, so its templates could have been swapped unnoticed; the "
            "kiosk does not start on it. Run `facelens gallery encrypt` with the same "
            f"passphrase ({PASSPHRASE_ENV}), or restore the encrypted gallery from a backup.")
    audit = AuditLog(Path(home) / AUDIT_DB, sealer=sealer_for(config, passphrase))
    attendance = attendance_store(home, config) if config.attendance else None
    return KioskStation(engine, gallery, config, audit, attendance, settings=settings)
