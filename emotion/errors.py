"""The exceptions the library raises.

Every error a user can cause derives from :class:`EmotionError`, so a page or
the CLI can catch one type, show ``str(err)`` and carry on. Messages say what
was wrong and what to do about it.
"""

from __future__ import annotations


class EmotionError(Exception):
    """Base class of every error this library raises on purpose."""


class UnreadableMedia(EmotionError):
    """An image or video could not be read (empty, truncated, wrong format, too big)."""


class ModelLoadError(EmotionError):
    """An emotion model or a face-detector model could not be loaded."""


class SettingsError(EmotionError, ValueError):
    """A setting has a value outside what it accepts."""


class BackendUnavailable(EmotionError):
    """A requested inference backend cannot run on this machine or for this model."""


class BackendRejected(BackendUnavailable):
    """A backend runs here but its answers differ from fp32 more than the agreement guard allows.

    ``auto`` skips it; asked for by name, it is used anyway with a warning that says why.
    """


class AnalysisCancelled(EmotionError):
    """A long analysis was stopped by its caller; partial results may be attached."""

    def __init__(self, message: str = "analysis cancelled", partial=None):
        super().__init__(message)
        self.partial = partial


class DataError(EmotionError):
    """Training or evaluation data is missing or malformed."""


class SyncError(EmotionError):
    """A reaction recording could not be aligned to its film by sound (no sound, or no match)."""
