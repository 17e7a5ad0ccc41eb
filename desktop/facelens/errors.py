"""Errors FaceLens reports to users: each carries a message that says what to do."""


class FaceLensError(Exception):
    """Base class: a problem the user can act on (printed without a traceback)."""


class ImageError(FaceLensError):
    """An input image cannot be read or used."""


class ModelPackError(FaceLensError):
    """A model pack is missing, cannot be built, or fails its checksums."""


class GalleryError(FaceLensError):
    """The gallery database cannot be read or written."""
