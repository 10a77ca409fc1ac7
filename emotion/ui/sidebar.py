"""The sidebar every page shares: model, face detector, minimum face size, threshold.

Widget values live under ``emotion.<name>`` keys in ``st.session_state`` so a
choice survives switching pages (Streamlit forgets the state of widgets that
a page run does not draw). The result is one frozen
:class:`~emotion.types.Settings` that pages and callbacks read.
"""

from __future__ import annotations

import os

import streamlit as st

from emotion.errors import SettingsError
from emotion.settings import BACKENDS, DETECTORS, Settings

PRESET_MODELS = ("bundled", "dima806/facial_emotions_image_detection")
OTHER = "other: a checkpoint folder or hub id"
_DETECTOR_HELP = {"auto": "auto (YuNet if available)", "yunet": "YuNet (CNN, best)",
                  "haar": "Haar (classic, frontal only)"}
_MIRROR = {"auto": "as the model asks", "on": "on", "off": "off"}


def _keep(store: str) -> None:
    st.session_state[store] = st.session_state[f"_w.{store}"]


def persisted_widget(factory, store: str, default, label: str, **kwargs):
    """``factory(label, ...)`` (``st.slider``, ``st.selectbox``, ...) whose value survives page switches.

    The value lives under ``store`` in ``st.session_state`` (``default`` until
    the user changes it); the widget itself gets the key ``_w.<store>``, which
    Streamlit may drop whenever a page run does not draw it.

    >>> fps = persisted_widget(st.select_slider, "film.fps", 4.0, "Samples/s", options=[1.0, 4.0])  # doctest: +SKIP
    """
    wkey = f"_w.{store}"
    if store not in st.session_state:
        st.session_state[store] = default
    st.session_state[wkey] = st.session_state[store]
    return factory(label, key=wkey, on_change=_keep, args=(store,), **kwargs)


def _widget(factory, name: str, default, label: str, **kwargs):
    return persisted_widget(factory, f"emotion.{name}", default, label, **kwargs)


def sidebar_settings() -> Settings:
    """Draw the shared settings in the sidebar and return them as a validated :class:`Settings`.

    ``$EMOTION_MODEL`` sets the default model (a deployment can ship its own checkpoint).
    """
    env_model = os.environ.get("EMOTION_MODEL", "").strip() or "bundled"
    defaults = Settings()
    sb = st.sidebar
    with sb:
        st.header("Settings")
        choice = _widget(st.selectbox, "model_choice", env_model if env_model in PRESET_MODELS else OTHER,
                         "Emotion model", options=[*PRESET_MODELS, OTHER],
                         help="'bundled' works offline; a hub model needs internet the first time")
        model = choice
        if choice == OTHER:
            custom = _widget(st.text_input, "model_custom", "" if env_model in PRESET_MODELS else env_model,
                             "Checkpoint folder or hub id", placeholder="/path/to/checkpoint or owner/name")
            model = custom.strip() or "bundled"
        detector = _widget(st.selectbox, "detector", defaults.detector, "Face detector", options=list(DETECTORS),
                           format_func=lambda k: _DETECTOR_HELP.get(k, k))
        min_face = _widget(st.slider, "min_face", defaults.min_face, "Minimum face size (px)",
                           min_value=8, max_value=300, step=2,
                           help="faces smaller than this (in image pixels) are ignored")
        threshold = _widget(st.slider, "threshold", defaults.threshold, "Detection threshold",
                            min_value=0.30, max_value=0.95, step=0.05,
                            help="YuNet's minimum face score; lower finds more faces and more false ones")
        with st.expander("Advanced"):
            backend = _widget(st.selectbox, "backend", defaults.backend, "Inference backend",
                              options=list(BACKENDS), help="'auto' picks the fastest that agrees with fp32")
            mirror = _widget(st.selectbox, "mirror", "auto", "Mirror averaging", options=list(_MIRROR),
                             format_func=_MIRROR.get,
                             help="also score each face mirrored and average the two: slightly more accurate, "
                                  "twice the emotion model's work. 'as the model asks' follows the checkpoint's "
                                  "inference.json (measured on validation faces when it was trained)")
            face_model = _widget(st.text_input, "face_model", "", "YuNet .onnx file (optional)",
                                 help="a local face_detection_yunet_2026may.onnx; else $EMOTION_FACE_MODEL "
                                      "or a one-time download")
    try:
        return Settings(model=model, detector=detector, face_model=face_model.strip() or None,
                        min_face=int(min_face), threshold=float(threshold), backend=backend,
                        mirror={"on": True, "off": False}.get(mirror))
    except SettingsError as exc:
        sb.error(f"{exc}; using the defaults")
        return defaults
