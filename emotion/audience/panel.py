"""The panel: every reaction to one film, summed per second and per scene -> :class:`AudienceReport`.

Each viewer's sampled moments are put in bins (a second of film time, or a
scene from the film's own analysis). In each bin a viewer contributes *one*
value per emotion, their mean over the bin; the panel's number is the mean of
those across viewers, with a 95% Wilson score interval over the viewers (the
independent units): a viewer's mean probability lies between 0 and 1, so its
variance is at most p(1 - p), and the Wilson interval with the number of viewers
is then conservative and always inside 0-100 % (a Student's t interval on two
viewers ran from below 0 % to above 100 %). No interval is given where fewer than
:data:`MIN_BAND_VIEWERS` viewers were seen: with one or two faces a band says
nothing. Shares (expressive, attentive) are likewise averaged over viewers.
See :mod:`emotion.audience.report` for every column.

>>> report = analyze_audience("film.mp4", [reaction1, reaction2])    # doctest: +SKIP
>>> report.ranking()[["scene", "start_timecode", "audience_happy"]].head(3)   # doctest: +SKIP
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import EmotionError
from ..film.shots import Scene, scene_numbers
from ..labels import VALENCE
from ..settings import AudienceSettings
from .reaction import Reaction
from .report import AudienceReport, AudienceSceneRow, Peak, SecondStats

#: Two-sided 95% quantiles of Student's t for 1..30 degrees of freedom (standard tables).
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)
_Z95 = 1.959964


#: Viewers below which a bin gets no interval (its lo/hi are NaN: an empty CSV cell, no band on a chart).
MIN_BAND_VIEWERS = 3
#: A viewer *responded* in a scene when an emotion's mean there rose at least this far (probability)
#: above that viewer's own baseline: their median, per second, over the whole screening (a resting face
#: that reads a little sad or happy is their normal, not a response).
RESPONSE_RISE = 0.15


def baselines(per_viewer_seconds: np.ndarray) -> np.ndarray:
    """Each viewer's resting face: the median over the screening's seconds of each emotion (V, L; NaN unseen).

    >>> baselines(np.array([[[0.1], [0.2], [0.9]]])).tolist()
    [[0.2]]
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # a viewer never seen: NaN
        return np.nanmedian(per_viewer_seconds, axis=1)


def responses(per_viewer_bins: np.ndarray, baseline: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mean rise above each viewer's baseline, share of the seen viewers who responded), per bin and emotion.

    ``per_viewer_bins`` (V, B, L) are the viewers' means per bin (NaN unseen), ``baseline`` (V, L).

    >>> rise, share = responses(np.array([[[0.5]], [[0.2]]]), np.array([[0.1], [0.15]]))
    >>> rise.round(3).tolist(), share.tolist()
    ([[0.225]], [[0.5]])
    """
    rise = per_viewer_bins - baseline[:, None, :]
    seen = np.isfinite(rise)
    n = seen.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_rise = np.where(n > 0, np.where(seen, rise, 0.0).sum(axis=0) / n, np.nan)
        share = np.where(n > 0, (seen & (np.nan_to_num(rise, nan=-1.0) >= RESPONSE_RISE)).sum(axis=0) / n, np.nan)
    return mean_rise, share


def wilson(p, n, z: float = _Z95) -> tuple[np.ndarray, np.ndarray]:
    """The Wilson score interval (lo, hi) of a mean ``p`` of ``n`` values in [0, 1]; always within [0, 1].

    >>> lo, hi = wilson(0.5, 3)
    >>> round(float(lo), 3), round(float(hi), 3)
    (0.125, 0.875)
    >>> [round(float(v), 3) for v in wilson(0.0, 10)]
    [0.0, 0.278]
    """
    p = np.clip(np.asarray(p, np.float64), 0.0, 1.0)
    n = np.asarray(n, np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        z2n = z * z / n
        centre = (p + z2n / 2) / (1 + z2n)
        half = z / (1 + z2n) * np.sqrt(p * (1 - p) / n + z2n / (4 * n))
    return np.clip(centre - half, 0.0, 1.0), np.clip(centre + half, 0.0, 1.0)


def t95(df) -> np.ndarray:
    """The two-sided 95% quantile of Student's t for ``df`` degrees of freedom (NaN below 1).

    Exact table values up to 30; above, the Cornish-Fisher expansion around the normal quantile
    (error below 0.001).

    >>> float(t95(4)), round(float(t95(60)), 3)
    (2.776, 2.0)
    """
    df = np.asarray(df, np.float64)
    out = np.full(df.shape, np.nan)
    small = (df >= 1) & (df <= 30)
    out[small] = np.take(_T95, (df[small] - 1).astype(int))
    big = df > 30
    z, v = _Z95, df[big]
    out[big] = (z + (z ** 3 + z) / (4 * v) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * v ** 2)
                + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * v ** 3))
    return out


@dataclass(frozen=True, eq=False)
class Bins:
    """Per viewer (V) and bin (B): samples, face samples, probability sums, attentive and expressive samples."""

    covered: np.ndarray     # (V, B)
    faces: np.ndarray       # (V, B)
    prob_sum: np.ndarray    # (V, B, L)
    attentive: np.ndarray   # (V, B)
    expressive: np.ndarray  # (V, B)


def bin_viewers(reactions: Sequence[Reaction], bin_of, n_bins: int, threshold: float) -> Bins:
    """Sum every viewer's samples into ``n_bins`` bins; ``bin_of(film_times)`` gives each sample's bin or -1."""
    n_labels = len(reactions[0].labels)
    v_total = sum(r.viewers for r in reactions)
    covered = np.zeros((v_total, n_bins))
    faces = np.zeros((v_total, n_bins))
    prob_sum = np.zeros((v_total, n_bins, n_labels))
    attentive = np.zeros((v_total, n_bins))
    expressive = np.zeros((v_total, n_bins))
    row = 0
    for r in reactions:
        b = np.asarray(bin_of(r.film_time), np.int64)
        ok = (b >= 0) & (b < n_bins)
        b = b[ok]
        moved = [j for j, lab in enumerate(r.labels) if lab != "neutral"]
        for v in range(r.viewers):
            face = r.face[v, ok]
            probs = np.where(face[:, None], r.probs[v, ok], 0.0)
            covered[row] = np.bincount(b, minlength=n_bins)
            faces[row] = np.bincount(b, weights=face, minlength=n_bins)
            attentive[row] = np.bincount(b, weights=r.attentive[v, ok] & face, minlength=n_bins)
            if moved:
                strong = face & (probs[:, moved].max(axis=1) > threshold)
                expressive[row] = np.bincount(b, weights=strong, minlength=n_bins)
            for j in range(n_labels):
                prob_sum[row, :, j] = np.bincount(b, weights=probs[:, j], minlength=n_bins)
            row += 1
    return Bins(covered, faces, prob_sum, attentive, expressive)


def panel_stats(bins: Bins) -> dict[str, np.ndarray]:
    """Across viewers, per bin: mean, 95% CI, viewers with a face, watching, expressive and attentive shares."""
    seen = bins.faces > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        per_viewer = np.where(seen[..., None], bins.prob_sum / bins.faces[..., None], np.nan)   # (V, B, L)
        n = seen.sum(axis=0)
        mean = np.where(n[:, None] > 0, np.nansum(per_viewer, axis=0) / n[:, None], np.nan)
        lo, hi = wilson(mean, n[:, None])
        band = (n >= MIN_BAND_VIEWERS)[:, None]
        lo, hi = np.where(band, lo, np.nan), np.where(band, hi, np.nan)
        watching = (bins.covered > 0).sum(axis=0)
        expressive = np.where(seen, bins.expressive / bins.faces, 0.0).sum(axis=0) / n
        attentive = np.where(bins.covered > 0, bins.attentive / bins.covered, 0.0).sum(axis=0) / watching
    return {"mean": mean, "lo": lo, "hi": hi, "viewers": n.astype(np.int32),
            "watching": watching.astype(np.int32), "expressive": expressive, "attentive": attentive,
            "per_viewer": per_viewer}


def _valence(labels: Sequence[str], means: np.ndarray) -> np.ndarray:
    weights = np.array([VALENCE.get(lab, 0) for lab in labels], np.float64)
    return means @ weights


def _screen_valence_per_second(film, n_seconds: int) -> np.ndarray:
    series = film.timeline.series()
    out = np.full(n_seconds, np.nan)
    if not len(series):
        return out
    values = _valence(film.labels, series[list(film.labels)].to_numpy(np.float64))
    sec = np.floor(series["time_s"].to_numpy()).astype(np.int64)
    ok = np.isfinite(values) & (sec >= 0) & (sec < n_seconds)
    total = np.bincount(sec[ok], weights=values[ok], minlength=n_seconds)
    count = np.bincount(sec[ok], minlength=n_seconds)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def find_peaks(per_viewer: np.ndarray, labels: Sequence[str], window_s: float,
               count: int = 5) -> list[tuple[int, int, float, float]]:
    """(second, label index, level, rise) of the audience's strongest rises in a non-neutral emotion.

    ``per_viewer`` is (V, S, L): each viewer's mean per second (NaN unseen). A viewer's rise at
    second ``s`` is their value there minus their lowest over the ``window_s`` seconds before;
    the audience's rise is the mean of its viewers' rises, so viewers arriving or leaving make
    no peak. ``level`` is the audience's mean at ``s``. Peaks are at least two windows apart.

    >>> v = np.array([[[0.1], [0.1], [0.6], [0.2]], [[0.2], [0.2], [0.4], [0.2]]])
    >>> find_peaks(v, ["happy"], 2, 1)
    [(2, 0, 0.5, 0.35)]
    """
    w = max(1, int(round(window_s)))
    cols = [j for j, lab in enumerate(labels) if lab != "neutral"]
    if per_viewer.shape[1] < 2 or not cols or per_viewer.shape[0] == 0:
        return []
    m = per_viewer[:, :, cols]                                                     # (V, S, C)
    padded = np.concatenate([np.full((m.shape[0], w, len(cols)), np.nan), m], axis=1)
    windows = np.lib.stride_tricks.sliding_window_view(padded[:, :-1], w, axis=1)  # (V, S, C, w)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # all-NaN: a viewer unseen there
        low = np.nanmin(windows, axis=3)
        rise = np.nanmean(m - low, axis=0)                                         # (S, C)
        level = np.nanmean(m, axis=0)
    rise[~np.isfinite(rise)] = -np.inf
    order = np.argsort(-rise, axis=None, kind="stable")
    picked: list[tuple[int, int, float, float]] = []
    for flat in order:
        s, c = divmod(int(flat), len(cols))
        if rise[s, c] <= 0 or len(picked) >= count:
            break
        if all(abs(s - p[0]) >= 2 * w for p in picked):
            picked.append((s, cols[c], round(float(level[s, c]), 6), round(float(rise[s, c]), 6)))
    return picked


def _correlation(a: np.ndarray, b: np.ndarray) -> float | None:
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < 3 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return None
    return float(np.corrcoef(a[ok], b[ok])[0, 1])


def strongest_responses(per_viewer_bins: np.ndarray, baseline: np.ndarray,
                        labels: Sequence[str]) -> list[tuple[str | None, float | None]]:
    """Per viewer, (emotion, rise) of the largest rise above their baseline in any bin, the emotion None
    where nothing rose by RESPONSE_RISE; (None, None) for a viewer never seen."""
    cols = [j for j, lab in enumerate(labels) if lab != "neutral"]
    out: list[tuple[str | None, float | None]] = []
    for v in range(per_viewer_bins.shape[0]):
        rise = per_viewer_bins[v][:, cols] - baseline[v, cols][None, :] if cols else np.zeros((0, 0))
        if not rise.size or not np.isfinite(rise).any():
            out.append((None, None))
            continue
        b, c = np.unravel_index(np.nanargmax(rise), rise.shape)
        top = float(rise[b, c])
        out.append((labels[cols[c]] if top >= RESPONSE_RISE else None, round(top, 4)))
    return out


def _viewer_summary(reactions: Sequence[Reaction], labels, stats_all: dict,
                    strongest: list[tuple[str | None, float | None]] | None = None) -> list[dict]:
    per_viewer = stats_all["per_viewer"][:, 0]      # one bin: the whole film
    out, row = [], 0
    for r in reactions:
        for v in range(r.viewers):
            means = per_viewer[row]
            seen = np.isfinite(means).all()
            box = r.viewer_boxes[v]
            summary = {"viewer": row + 1, "reaction": r.name, "face_in_reaction": v + 1, "viewers_by": r.grouping,
                       "position_x": round(float((box[0] + box[2]) / 2)),
                       "position_y": round(float((box[1] + box[3]) / 2)), "face_px": round(float(box[2] - box[0])),
                       "samples": int(stats_all["covered"][row, 0]),
                       "face_share": _share(stats_all["faces"][row, 0], stats_all["covered"][row, 0]),
                       "attentive_share": _share(stats_all["attentive"][row, 0], stats_all["covered"][row, 0]),
                       "expressive_share": _share(stats_all["expressive"][row, 0], stats_all["faces"][row, 0])}
            summary.update({f"mean_{lab}": round(float(p), 4) if seen else None for lab, p in zip(labels, means)})
            summary["valence"] = round(float(_valence(labels, means)), 4) if seen else None
            emotion, rise = strongest[row] if strongest else (None, None)
            summary.update(strongest_response=emotion, strongest_rise=rise)
            out.append(summary)
            row += 1
    return out


def _share(part: float, whole: float) -> float | None:
    return round(float(part / whole), 4) if whole > 0 else None


def analyze_audience(film_report, reactions: Sequence[Reaction], audience: AudienceSettings | None = None, *,
                     settings=None, peaks: int = 5, **film_options) -> AudienceReport:
    """Sum a panel of reactions to the film per second and per scene.

    ``film_report`` is the film's :class:`~emotion.film.VideoReport`, or the film's path:
    then it is analysed with :func:`emotion.film.analyze_video` (``settings`` and
    ``film_options`` passed on: ``film``, ``detector``, ``cache``, ...), which answers
    from its cache when the film was analysed before. Its scenes and on-screen valence sit beside the
    audience's. ``peaks`` is how many audience peaks to report.

    >>> report = analyze_audience(film_report, [reaction])              # doctest: +SKIP
    >>> report.rows[0].mean["happy"], report.rows[0].viewers            # doctest: +SKIP
    (0.21, 3)
    """
    audience = audience or AudienceSettings()
    if isinstance(film_report, (str, os.PathLike)):
        from ..film import analyze_video

        film_report = analyze_video(film_report, settings, **film_options)
    reactions = list(reactions)
    if not reactions:
        raise EmotionError("no reactions: add at least one reaction recording to make a panel")
    labels = tuple(reactions[0].labels)
    for r in reactions:
        if tuple(r.labels) != labels:
            raise EmotionError(f"{r.name}: its emotions {r.labels} differ from {reactions[0].name}'s {labels}; "
                               "analyse every reaction with the same model")
    scenes: tuple[Scene, ...] = tuple(film_report.scenes)
    duration = float(scenes[-1].end) if scenes else float(film_report.info.duration)
    n_seconds = max(1, int(math.ceil(duration)))
    thr = audience.expressive_threshold

    per_second = panel_stats(bin_viewers(
        reactions, lambda t: np.where((t >= 0) & (t < duration), np.floor(t), -1), n_seconds, thr))
    scene_of_second = scene_numbers(scenes, np.arange(n_seconds) + 0.5) if scenes else np.zeros(n_seconds, np.int32)
    screen_s = _screen_valence_per_second(film_report, n_seconds)
    seconds = SecondStats(per_second["mean"], per_second["lo"], per_second["hi"], per_second["viewers"],
                          per_second["watching"], per_second["expressive"], per_second["attentive"],
                          _valence(labels, per_second["mean"]), screen_s, scene_of_second)

    rows = []
    strongest = None
    if scenes:
        per_scene = panel_stats(bin_viewers(
            reactions, lambda t: np.where((t >= 0) & (t < duration), scene_numbers(scenes, t) - 1, -1),
            len(scenes), thr))
        film_rows = {r.scene: r for r in film_report.rows}
        moved = [j for j, lab in enumerate(labels) if lab != "neutral"]
        baseline = baselines(per_second["per_viewer"])
        rise, responded = responses(per_scene["per_viewer"], baseline)
        strongest = strongest_responses(per_scene["per_viewer"], baseline, labels)
        for k, scene in enumerate(scenes):
            mean = per_scene["mean"][k]
            rows.append(AudienceSceneRow(
                scene.number, scene.start, scene.end, int(per_scene["viewers"][k]), int(per_scene["watching"][k]),
                dict(zip(labels, mean.tolist())), dict(zip(labels, per_scene["lo"][k].tolist())),
                dict(zip(labels, per_scene["hi"][k].tolist())), float(per_scene["expressive"][k]),
                float(per_scene["attentive"][k]), float(_valence(labels, mean)),
                float(film_rows[scene.number].valence) if scene.number in film_rows else float("nan"),
                float(mean[moved].sum()) if moved else float("nan"),
                dict(zip(labels, rise[k].tolist())), dict(zip(labels, responded[k].tolist()))))
    whole = bin_viewers(reactions, lambda t: np.where((t >= 0) & (t < duration), 0, -1), 1, thr)
    whole_stats = panel_stats(whole)
    whole_stats.update({"covered": whole.covered, "faces": whole.faces, "attentive": whole.attentive,
                        "expressive": whole.expressive})
    names = [f"{r.name} #{v + 1}" for r in reactions for v in range(r.viewers)]
    summaries = _viewer_summary(reactions, labels, whole_stats, strongest)
    found = [Peak(float(s), labels[j], level, rise, int(scene_of_second[s]), int(per_second["viewers"][s]))
             for s, j, level, rise in find_peaks(per_second["per_viewer"], labels, audience.peak_window_s, peaks)]
    correlation = _correlation(np.array([r.audience_valence for r in rows]),
                               np.array([r.screen_valence for r in rows])) if rows else None
    notes = [w for r in reactions for w in r.warnings]
    outside = [r.name for r in reactions if r.viewers and not np.any((r.film_time >= 0) & (r.film_time < duration))]
    if outside:
        notes.append(f"{', '.join(outside)}: no moment of the recording falls within the film with its offset; "
                        "check the offset")
    if not any(r.viewers for r in reactions):
        notes.append("No viewer's face was found in any reaction: the panel is empty.")
    return AudienceReport(film=film_report.source, duration_s=duration, labels=labels, scenes=scenes, rows=tuple(rows),
                          seconds=seconds, reactions=tuple(r.summary() for r in reactions),
                          viewer_names=tuple(names),
                          viewer_seconds=per_second["per_viewer"].astype(np.float32),
                          viewer_summary=tuple(summaries), peaks=tuple(found), valence_correlation=correlation,
                          settings=audience, warnings=tuple(notes), fps=film_report.info.fps,
                          syncs=tuple(r.sync_result for r in reactions), stills=tuple(r.still for r in reactions))
