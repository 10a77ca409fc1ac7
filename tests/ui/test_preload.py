"""emotion.ui.preload: the Film page asks the browser for its results' element code before the results come."""

from __future__ import annotations

import json

from emotion.ui.preload import RESULT_ELEMENTS, element_files, preload_script


def test_finds_streamlits_own_element_files():
    files = element_files(RESULT_ELEMENTS)
    # The installed Streamlit names its lazily loaded element code <Element>.<hash>.js.
    assert any(f.startswith("PlotlyChart.") and f.endswith(".js") for f in files), files
    assert len(files) == len(set(files))


def test_an_unknown_layout_asks_for_nothing(tmp_path):
    (tmp_path / "PlotlyChart.a1.js").write_text("")
    (tmp_path / "Video.a1.js").write_text("")
    (tmp_path / "Video.b2.js").write_text("")       # two candidates: not sure which, so neither
    assert element_files(("PlotlyChart", "Video", "Metric"), tmp_path) == ("PlotlyChart.a1.js",)
    assert element_files(("PlotlyChart",), tmp_path / "missing") == ()


def test_the_script_imports_relative_to_the_frontends_entry_module():
    script = preload_script(("PlotlyChart.a1.js", "Video.a1.js"))
    assert script.startswith("<script>") and script.endswith("</script>")
    assert json.dumps(["PlotlyChart.a1.js", "Video.a1.js"]) in script
    assert "new URL(f, entry.src)" in script and ".catch(" in script    # a base URL path works; a miss is quiet


def test_the_film_page_draws_it_in_the_sidebar(open_page):
    page = open_page("views/3_Film.py")
    (preload,) = [h for h in page.sidebar.get("html") if "import(" in h.proto.body]
    assert preload.proto.unsafe_allow_javascript and "PlotlyChart." in preload.proto.body
    assert not [h for h in page.main.get("html") if "import(" in h.proto.body], "nothing in the page's flow"
