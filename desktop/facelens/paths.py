"""Where FaceLens keeps its data and its models."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP = "FaceLens"


def data_home(override: str | os.PathLike | None = None) -> Path:
    """The data folder: `override` (``--home``), else ``$FACELENS_HOME``, else the platform's."""
    chosen = override or os.environ.get("FACELENS_HOME")
    path = Path(chosen) if chosen else Path(platformdirs.user_data_dir(APP, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_home() -> Path:
    """Where model packs are built or downloaded: ``$FACELENS_MODELS`` or the user cache."""
    chosen = os.environ.get("FACELENS_MODELS")
    cache = Path(platformdirs.user_cache_dir(APP, appauthor=False))
    path = Path(chosen) if chosen else cache / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path
