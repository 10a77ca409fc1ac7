"""Streamlit helpers shared by the pages: the only part of the project that imports streamlit.

Pages stay thin: ``loaded = setup_page(title, icon)`` (page config, shared sidebar,
cached detector, notes about fallbacks), then their own content.
"""

from .loaders import Loaded, cached_face_detector, cached_model, load_detector
from .sidebar import sidebar_settings
from .status import setup_page, show_notes, sidebar_status, status_rows

__all__ = ["Loaded", "cached_face_detector", "cached_model", "load_detector", "sidebar_settings",
           "setup_page", "show_notes", "sidebar_status", "status_rows"]
