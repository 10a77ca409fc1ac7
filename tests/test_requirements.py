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
