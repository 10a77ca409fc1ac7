"""The installed environment matches what requirements.txt promises."""

import importlib.metadata as md
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def installed(name: str) -> bool:
    try:
        md.version(name)
        return True
    except md.PackageNotFoundError:
        return False


def test_only_one_opencv_wheel_is_installed():
    assert installed("opencv-python")
    assert not installed("opencv-python-headless"), \
        "opencv-python-headless overwrites opencv-python's cv2; uninstall both and reinstall opencv-python"


def test_opencv_4_with_haar_cascades_and_yunet():
    import cv2

    assert cv2.__version__.startswith("4.")
    assert (Path(cv2.data.haarcascades) / "haarcascade_frontalface_default.xml").is_file()
    assert hasattr(cv2, "FaceDetectorYN")


def test_no_torchvision_dependency():
    text = (ROOT / "requirements.txt").read_text()
    assert "torchvision" not in text.replace("No torchvision", "")
    assert "torch==2.13.0" in text


@pytest.mark.parametrize("command", [
    "pip install -r requirements.txt && streamlit run app.py",
    "pip install -r requirements.txt -r requirements-dev.txt && python -m pytest -q",
])
def test_readme_opens_with_the_commands_and_ci_runs_the_test_one(command):
    head = "\n".join((ROOT / "README.md").read_text().splitlines()[:25])
    assert command in head
    if "pytest" in command:
        assert command in (ROOT / ".ci" / "run").read_text()


def _requirements() -> dict[str, str]:
    """requirements.txt as {name: version spec}, comments and blank lines dropped."""
    import re

    out = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, spec = re.match(r"([A-Za-z0-9_.\-\[\]]+)(.*)", line).groups()
            out[name.lower()] = spec.strip()
    return out


def _pyproject() -> dict:
    try:
        import tomllib                 # Python 3.11+
    except ModuleNotFoundError:        # 3.10, which the package allows: the same parser as a package
        tomllib = pytest.importorskip("tomli", reason="Python 3.10 reads pyproject.toml with tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


#: Import name -> the distribution that provides it, where the two differ.
_DISTRIBUTIONS = {"PIL": "pillow", "cv2": "opencv-python", "huggingface_hub": "huggingface-hub",
                  "streamlit_webrtc": "streamlit-webrtc", "python_multipart": "python-multipart"}
#: Optional accelerators and cluster runners, each with its own requirements file and a clear fallback.
_OPTIONAL = {"ray": "requirements-ray.txt", "intel_extension_for_pytorch": "an optional accelerator"}


def test_every_package_the_library_imports_is_declared():
    """Field review: filelock and starlette were imported but not declared."""
    import ast
    import sys

    imported = set()
    for path in (ROOT / "emotion").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "emotion" and m not in _OPTIONAL}
    declared = set(_requirements())
    missing = sorted(m for m in third_party if _DISTRIBUTIONS.get(m, m).lower() not in declared)
    assert not missing, f"imported by emotion/ but not in requirements.txt: {missing}"


def test_pyproject_declares_what_requirements_txt_installs():
    import re

    declared = {}
    for dep in _pyproject()["project"]["dependencies"]:
        name, spec = re.match(r"([A-Za-z0-9_.\-\[\]]+)(.*)", dep).groups()
        declared[name.lower()] = spec.strip()
    pinned = _requirements()
    assert set(declared) == set(pinned)
    for name, spec in pinned.items():
        if name == "torch":  # pinned to the local CPU build in requirements.txt; a range in the package
            assert md.version("torch").split("+")[0] == spec.removeprefix("==")
            continue
        assert declared[name] == spec, f"{name}: pyproject says {declared[name]!r}, requirements.txt {spec!r}"


def test_pyproject_ships_the_bundled_model_and_the_emotion_command():
    from fnmatch import fnmatch

    project = _pyproject()
    assert project["project"]["scripts"]["emotion"] == "emotion.cli:main"
    from emotion.cli import main  # noqa: F401 - the entry point resolves

    globs = project["tool"]["setuptools"]["package-data"]["emotion"]
    bundled = [p for p in (ROOT / "emotion" / "models").rglob("*") if p.is_file()]
    assert bundled, "the bundled model is missing"
    for path in bundled:
        rel = path.relative_to(ROOT / "emotion").as_posix()
        assert any(fnmatch(rel, g) for g in globs), f"{rel} would not be installed with the package"
    assert "--doctest-modules" in project["tool"]["pytest"]["ini_options"]["addopts"]
