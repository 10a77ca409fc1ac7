"""The home page and the shared loaders, through Streamlit's AppTest."""

import re
from pathlib import Path

import pytest

from emotion.settings import Settings


def texts(elements):
    return " ".join(str(e.value) for e in elements)


def test_home_page_without_bundled_model_explains_what_to_do(app_test, bundled):
    bundled(None)
    at = app_test("app.py").run()
    assert not at.exception
    assert "bundled emotion model is not installed" in texts(at.error)
    assert "YuNet unavailable" in texts(at.warning)  # no network in tests, so auto fell back to Haar
    assert at.title[0].value == "Emotion analytics"
    links = [e for e in at.main if type(e).__name__ == "PageLink"]
    assert links and "Image" in links[0].proto.label


@pytest.mark.parametrize("script", ["views/1_Image.py", "views/2_Webcam.py", "views/3_Film.py"])
def test_every_page_without_a_model_shows_the_same_error_and_stops(app_test, bundled, script):
    bundled(None)
    at = app_test(script).run()
    assert not at.exception
    assert "bundled emotion model is not installed" in texts(at.error)
    assert "This page needs an emotion model" in texts(at.info)
    assert {"Emotion model", "Face detector"} <= {w.label for w in at.sidebar.selectbox}
    assert not at.get("file_uploader"), "nothing to upload without a model"


def test_home_page_shows_model_detector_and_backend(app_test, bundled, tiny_checkpoint, yunet_path, monkeypatch):
    bundled(tiny_checkpoint)
    monkeypatch.setenv("EMOTION_FACE_MODEL", str(yunet_path))
    at = app_test("app.py").run()
    assert not at.exception and not at.error and not at.warning
    table = at.table[0].value
    assert list(table["active"])[:2] == ["bundled", "yunet"]
    # Whatever 'auto' chose here, said in a user's words: a speed-up factor, or none on this CPU.
    assert list(table["part"])[2] == "Speed-up"
    speed = table["active"][2]
    assert speed == "none on this CPU" or re.fullmatch(r"\d+\.\dx faster \(.+\)", speed), speed
    assert not {"eager", "bf16", "onnx-int8", "ipex"} & set(speed.split()), "no backend jargon in the table"
    assert "happy" in table["details"][0]
    assert " ms" not in " ".join(table["details"]), "timings are technical details, folded away"
    (details,) = at.main.expander
    assert details.label.startswith("Technical details")
    folded = texts(details.markdown)
    assert "Inference backend **" in folded and ": auto:" in folded and " ms" in folded


def test_navigation_starts_at_home_and_lists_every_page(app_test, bundled, tiny_checkpoint):
    bundled(tiny_checkpoint)
    at = app_test("app.py").run()
    names = [info.get("page_name") for info in at._registered_pages.values()]  # what st.navigation registered
    assert names == ["Home", "Image", "Webcam", "Film", "Audience"]
    links = [e.proto.label for e in at.main if type(e).__name__ == "PageLink"]
    assert [label.split(":")[0] for label in links] == names[1:]
    sidebar = [w.label for w in at.sidebar.selectbox] + [w.label for w in at.sidebar.slider]
    assert {"Emotion model", "Face detector", "Minimum face size (px)", "Detection threshold"} <= set(sidebar)


def test_unreachable_hub_model_falls_back_to_bundled(app_test, bundled, tiny_checkpoint):
    bundled(tiny_checkpoint)
    at = app_test("app.py").run()
    at.sidebar.selectbox(key="_w.emotion.model_choice").set_value("dima806/facial_emotions_image_detection").run()
    assert not at.exception
    assert "hub is unreachable" in texts(at.warning) and "Falling back to the bundled model" in texts(at.warning)
    assert at.table[0].value["active"][0] == "bundled"


def test_sidebar_choices_survive_a_page_switch(app_test, bundled, tiny_checkpoint):
    bundled(tiny_checkpoint)
    at = app_test("app.py").run()
    at.sidebar.slider(key="_w.emotion.min_face").set_value(64).run()
    at.sidebar.selectbox(key="_w.emotion.detector").set_value("haar").run()
    at.switch_page("views/1_Image.py").run()
    assert not at.exception
    assert at.sidebar.slider(key="_w.emotion.min_face").value == 64
    assert at.sidebar.selectbox(key="_w.emotion.detector").value == "haar"


def test_mirror_choice_reaches_the_model_and_is_shown(app_test, bundled, tiny_checkpoint, monkeypatch):
    import emotion.ui.loaders as loaders

    bundled(tiny_checkpoint)  # its checkpoint has no inference.json: "as the model asks" means off
    at = app_test("app.py").run()
    assert "mirror" not in at.table[0].value["details"][0]
    loads = []
    real = loaders.load_model
    monkeypatch.setattr(loaders, "load_model", lambda *a, **k: loads.append(a) or real(*a, **k))
    at.sidebar.selectbox(key="_w.emotion.mirror").set_value("on").run()
    assert not at.exception
    assert "averaged with its mirror image" in at.table[0].value["details"][0]
    assert loads == []  # the loaded model's twin, not a second load


@pytest.mark.parametrize("settings, level, phrase", [
    (Settings(model="/no/such/dir", detector="haar"), "warning", "Falling back to the bundled model"),
    (Settings(detector="yunet", face_model="/no/such.onnx"), "warning", "Using the Haar detector instead"),
])
def test_load_detector_fallbacks(settings, level, phrase, bundled, tiny_checkpoint):
    from emotion.ui.loaders import load_detector

    bundled(tiny_checkpoint)
    loaded = load_detector(settings)
    assert loaded.detector is not None
    assert any(lv == level and phrase in msg for lv, msg in loaded.notes)


def test_load_detector_without_any_model(bundled):
    from emotion.ui.loaders import load_detector

    bundled(None)
    loaded = load_detector(Settings(model="/no/such/dir", detector="haar"))
    assert loaded.detector is None
    assert [lv for lv, _ in loaded.notes] == ["warning", "error"]


def test_cached_loaders_share_one_model_across_threads(bundled, tiny_checkpoint):
    from concurrent.futures import ThreadPoolExecutor

    from emotion.ui.loaders import cached_model

    bundled(tiny_checkpoint)
    with ThreadPoolExecutor(4) as pool:
        models = list(pool.map(lambda _: cached_model("bundled", "eager"), range(8)))
    assert all(m is models[0] for m in models)


def test_every_page_icon_is_a_material_icon_that_draws_without_an_emoji_font(app_test, bundled, tiny_checkpoint):
    bundled(tiny_checkpoint)
    at = app_test("app.py").run()
    icons = [info.get("icon") for info in at._registered_pages.values()]
    assert icons and all(icon.startswith(":material/") for icon in icons), icons


def test_the_config_hides_deploy_tracebacks_and_search_links():
    text = (Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text()
    settings = dict(re.findall(r'^(\w+)\s*=\s*"?([^"\n]+)"?', text, re.M))
    assert settings["toolbarMode"] == "viewer", "no Deploy button"
    assert settings["showErrorDetails"] == "none" and settings["showErrorLinks"] == "false"


def test_an_unexpected_error_on_a_page_is_one_plain_sentence_and_goes_to_the_log(app_test, bundled, tiny_checkpoint,
                                                                                  monkeypatch, caplog):
    import emotion.ui.image_page as image_page

    def broken(loaded):
        raise AttributeError("'EmotionDetector' object has no attribute 'backend'")

    bundled(tiny_checkpoint)
    monkeypatch.setattr(image_page, "render", broken)
    with caplog.at_level("ERROR", logger="emotion.ui.status"):
        at = app_test("views/1_Image.py").run()
    assert not at.exception, "no traceback on the page"
    (error,) = at.error
    assert error.value.startswith("Something went wrong on this page") and "reload" in error.value
    assert "Attribute" not in error.value and "/" not in error.value
    assert "no attribute 'backend'" in caplog.text, "the detail goes to the server's log"


@pytest.mark.parametrize("backend, seconds, expected", [
    ("eager", {"eager": 0.01, "bf16": None}, "none on this CPU"),
    ("bf16", {"eager": 0.03, "bf16": 0.01}, "3.0x faster (bfloat16 arithmetic)"),
    ("onnx-int8", {"eager": 0.025, "onnx-int8": 0.01}, "2.5x faster (8-bit integer model)"),
])
def test_speed_up_is_said_in_a_users_words(backend, seconds, expected):
    from types import SimpleNamespace

    from emotion.runtime.auto import Trial
    from emotion.ui.status import speed_up_in_words

    trials = tuple(Trial(name, s, "") for name, s in seconds.items())
    model = SimpleNamespace(backend=backend, backend_reason="auto: measured", backend_trials=trials)
    words = speed_up_in_words(model)
    assert words["active"] == expected and "ms" not in words["details"]
