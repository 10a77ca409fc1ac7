"""Image results as table rows, CSV and JSON, for downloads and the CLI.

One CSV row per face: the image, face number, box, detector score, top
emotion and one ``p_<label>`` column per label. Images without faces still
get a row (with empty face columns), so a CSV of a batch lists every image.

>>> from emotion.types import ImageResult
>>> print(to_csv([("a.jpg", ImageResult((), 10, 10, "haar", "m", ("happy", "sad")))]).strip())
image,face,x1,y1,x2,y2,score,emotion,p_happy,p_sad
a.jpg,,,,,,,,,
"""

from __future__ import annotations

import csv
import io
import json
from typing import Iterable

from .types import ImageResult

Named = tuple[str, ImageResult]


def _labels(results: list[Named]) -> list[str]:
    seen: list[str] = []
    for _, r in results:
        seen += [lab for lab in r.labels if lab not in seen]
    return seen


def to_rows(results: Iterable[Named]) -> list[dict]:
    """One dict per face (or per image without faces), columns as in the module docstring."""
    results = list(results)
    labels = _labels(results)
    rows = []
    for name, r in results:
        if not r.faces:
            rows.append({"image": name, "face": None, "x1": None, "y1": None, "x2": None, "y2": None,
                         "score": None, "emotion": None, **{f"p_{lab}": None for lab in labels}})
        for i, f in enumerate(r.faces, start=1):
            x1, y1, x2, y2 = f.box
            rows.append({"image": name, "face": i, "x1": x1, "y1": y1, "x2": x2, "y2": y2,
                         "score": round(f.score, 4), "emotion": f.emotion,
                         **{f"p_{lab}": round(f.probabilities[lab], 4) if lab in f.probabilities else None
                            for lab in labels}})
    return rows


def to_csv(results: Iterable[Named]) -> str:
    """CSV text of :func:`to_rows`."""
    results = list(results)
    columns = ["image", "face", "x1", "y1", "x2", "y2", "score", "emotion"] + [f"p_{lab}" for lab in _labels(results)]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(to_rows(results))
    return buf.getvalue()


def to_record(name: str, result: ImageResult) -> dict:
    """The CLI's JSON object for one image: ``{"path", "detector", "model", "faces"}``."""
    d = result.to_dict()
    return {"path": name, "detector": d["detector"], "model": d["model"], "faces": d["faces"]}


def to_json(results: Iterable[Named], indent: int | None = 2) -> str:
    """JSON text: a list of :func:`to_record` objects, with each image's size and labels added."""
    out = []
    for name, r in results:
        rec = to_record(name, r)
        rec.update({"width": r.width, "height": r.height, "labels": list(r.labels)})
        out.append(rec)
    return json.dumps(out, indent=indent)
