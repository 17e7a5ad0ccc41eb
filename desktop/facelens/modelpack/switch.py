"""Switch the data folder to another model pack, keeping every enrolled person.

Templates belong to one embedding model, so the gallery's stored face crops are embedded by
the new pack (see :meth:`facelens.gallery.Gallery.reembed`) before the settings name it.
Used by ``facelens models use NAME``; the app's Settings pack choice does the same through
:class:`facelens.app.reembed.GalleryReembedder`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..gallery import open_for_home
from ..gallery.crops import ReembedProgress, ReembedReport
from ..settings import Settings

if TYPE_CHECKING:
    from ..engine.recognizer import FaceEngine


def switch_pack(home: Path, name: str, provider: str = "auto",
                build_progress: Callable[[str, float], None] | None = None,
                embed_progress: ReembedProgress | None = None,
                prompt: bool = True) -> tuple[FaceEngine, ReembedReport]:
    """Load pack `name` (building it if needed), re-embed the gallery, then save the setting.

    If anything fails (the pack cannot be built, the gallery cannot be unlocked), the
    settings still name the old pack and nothing is lost.
    """
    from ..engine.recognizer import FaceEngine
    from ..gallery.backend import gallery_location, is_url
    from ..gallery.central_limits import PACK_SWITCH, not_on_central
    from ..gallery.gallery import default_db_path

    if is_url(gallery_location(default_db_path(home), Settings.load(home).gallery_url)):
        raise not_on_central(PACK_SWITCH)  # before any pack is built or loaded
    engine = FaceEngine.load(name, provider, progress=build_progress)
    with open_for_home(home, engine.model_id, engine.dim, prompt=prompt) as gallery:
        report = gallery.reembed(engine.embed, embed_progress)
    settings = Settings.load(home)
    if settings.model_pack != name:
        dataclasses.replace(settings, model_pack=name).save(home)
    return engine, report
