"""Streamlit helpers shared by the pages: the only part of the project that imports streamlit.

Pages stay thin: ``loaded = setup_page(title, icon)`` (page config, shared sidebar,
cached detector, notes about fallbacks), ``if model_missing(loaded): return``, then
their own content. Widgets whose choice should survive a page switch use
:func:`persisted_widget`.
"""

from .loaders import Loaded, cached_face_detector, cached_model, load_detector
from .sidebar import persisted_widget, sidebar_settings
from .status import (guarded, model_missing, run_page, setup_page, show_notes, sidebar_status, speed_up_in_words,
                     status_rows, technical_details)

__all__ = ["Loaded", "cached_face_detector", "cached_model", "load_detector", "model_missing", "persisted_widget",
           "sidebar_settings", "setup_page", "show_notes", "sidebar_status", "status_rows", "technical_details",
           "guarded", "run_page", "speed_up_in_words"]
