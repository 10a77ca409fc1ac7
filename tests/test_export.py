import csv
import io
import json

from emotion.export import to_csv, to_json, to_record, to_rows
from emotion.types import FaceResult, ImageResult

LABELS = ("happy", "sad")


def one_face():
    face = FaceResult((1, 2, 30, 40), 0.87654, "sad", {"happy": 0.25, "sad": 0.75})
    return ImageResult((face,), 64, 48, "yunet", "bundled", LABELS)


def no_face():
    return ImageResult((), 10, 10, "yunet", "bundled", LABELS)


def test_csv_has_one_row_per_face_and_per_empty_image():
    text = to_csv([("a.jpg", one_face()), ("b.jpg", no_face())])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["image", "face", "x1", "y1", "x2", "y2", "score", "emotion", "p_happy", "p_sad"]
    assert rows[0] == {"image": "a.jpg", "face": "1", "x1": "1", "y1": "2", "x2": "30", "y2": "40",
                       "score": "0.8765", "emotion": "sad", "p_happy": "0.25", "p_sad": "0.75"}
    assert rows[1]["image"] == "b.jpg" and rows[1]["face"] == "" and rows[1]["emotion"] == ""


def test_rows_union_labels_of_different_models():
    other = ImageResult((FaceResult((0, 0, 5, 5), 1.0, "angry", {"angry": 1.0}),), 8, 8, "haar", "m2", ("angry",))
    rows = to_rows([("a", one_face()), ("b", other)])
    assert rows[1]["p_angry"] == 1.0 and rows[1]["p_happy"] is None and rows[0]["p_angry"] is None


def test_record_has_exactly_the_cli_keys():
    rec = to_record("a.jpg", one_face())
    assert list(rec) == ["path", "detector", "model", "faces"]
    assert rec["faces"][0] == {"box": [1, 2, 30, 40], "score": 0.8765, "emotion": "sad",
                               "probabilities": {"happy": 0.25, "sad": 0.75}}


def test_json_round_trip():
    data = json.loads(to_json([("a.jpg", one_face()), ("b.jpg", no_face())]))
    assert [d["path"] for d in data] == ["a.jpg", "b.jpg"]
    assert data[0]["width"] == 64 and data[1]["faces"] == [] and data[0]["labels"] == ["happy", "sad"]
