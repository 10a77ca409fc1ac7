"""The canonical emotion labels and the synonyms models use for them.

Checkpoints name their classes in many ways ("anger", "Happiness", "SAD", ...).
Everything past the model edge uses the canonical names below, in this order.

>>> canonical_label("Happiness")
'happy'
"""

from __future__ import annotations

from .errors import ModelLoadError

#: Canonical order. ``contempt`` exists only for models that predict it (FER+).
CANONICAL: tuple[str, ...] = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "contempt")

#: Valence sign of each label: +1 positive, -1 negative, 0 neutral/ambiguous.
VALENCE: dict[str, int] = {
    "angry": -1, "disgust": -1, "fear": -1, "sad": -1, "contempt": -1,
    "happy": 1, "surprise": 0, "neutral": 0,
}

_SYNONYMS: dict[str, str] = {
    "angry": "angry", "anger": "angry", "mad": "angry",
    "disgust": "disgust", "disgusted": "disgust", "disgusting": "disgust",
    "fear": "fear", "fearful": "fear", "scared": "fear", "afraid": "fear",
    "happy": "happy", "happiness": "happy", "joy": "happy", "happyness": "happy",
    "sad": "sad", "sadness": "sad", "sorrow": "sad",
    "surprise": "surprise", "surprised": "surprise", "suprise": "surprise",
    "neutral": "neutral", "calm": "neutral", "none": "neutral",
    "contempt": "contempt", "contemptuous": "contempt",
}


def canonical_label(name: str) -> str | None:
    """Return the canonical name for ``name``, or ``None`` if it is no known emotion."""
    key = str(name).strip().lower().replace("-", "").replace("_", "").replace(" ", "")
    return _SYNONYMS.get(key)


def canonical_labels(names: list[str] | tuple[str, ...], source: str = "model") -> tuple[str, ...]:
    """Map every class name of a model to a canonical label.

    Raises :class:`ModelLoadError` naming the offending classes if a name is
    unknown or two classes map to the same label, because silently dropping a
    class would make every probability wrong.
    """
    out: list[str] = []
    unknown = []
    for n in names:
        c = canonical_label(n)
        if c is None:
            unknown.append(n)
        out.append(c)
    if unknown:
        raise ModelLoadError(
            f"{source} has classes that are not emotions this tool knows: {unknown}; "
            f"expected names like {', '.join(CANONICAL)}"
        )
    dup = sorted({c for c in out if out.count(c) > 1})
    if dup:
        raise ModelLoadError(f"{source} maps several classes to the same emotion: {dup}")
    return tuple(out)
