"""Streamlit helpers shared by the pages: the only part of the project that imports streamlit.

Pages stay thin: ``settings = sidebar_settings()``, ``loaded = load_detector(settings)``,
``show_notes(loaded)``, then their own content.
"""

from .loaders import Loaded, cached_face_detector, cached_model, load_detector
from .sidebar import sidebar_settings
from .status import show_notes, sidebar_status, status_rows

__all__ = ["Loaded", "cached_face_detector", "cached_model", "load_detector", "sidebar_settings",
           "show_notes", "sidebar_status", "status_rows"]
