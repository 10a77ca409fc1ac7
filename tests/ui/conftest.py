"""Fixtures for the Streamlit page tests (AppTest runs the scripts in this process)."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_streamlit_caches():
    import streamlit as st

    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def bundled(monkeypatch, tmp_path):
    """Point the bundled model at a directory: ``bundled(path)``; ``bundled(None)`` makes it missing."""
    import emotion.model.checkpoint as model_mod

    def point(path):
        monkeypatch.setattr(model_mod, "BUNDLED_DIR", path if path is not None else tmp_path / "no-bundled-model")
    return point


@pytest.fixture
def app_test():
    """Factory: ``app_test("app.py")`` or ``app_test("views/1_Image.py")`` -> AppTest, not yet run."""
    from streamlit.testing.v1 import AppTest

    def make(script: str):
        return AppTest.from_file(str(ROOT / script), default_timeout=120)
    return make


@pytest.fixture
def open_page(app_test, bundled, tiny_checkpoint):
    """Factory: ``open_page("views/1_Image.py")`` -> AppTest already run once, the tiny checkpoint as bundled model."""
    def open_(script: str):
        bundled(tiny_checkpoint)
        at = app_test(script).run()
        assert not at.exception
        return at
    return open_
