"""The one error type the style engine raises for user mistakes."""

from ..errors import FaceLensError


class StyleError(FaceLensError):
    """A style cannot be found, loaded or applied; the message says why."""
