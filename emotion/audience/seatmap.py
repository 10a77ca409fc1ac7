"""The seat map: the room as its camera sees it, faces blurred, each seat numbered and coloured by its response.

:func:`room_still` takes one frame from the middle of a reaction recording and
blurs every face in it (the viewers' seats and any face the scan saw near that
moment), so the picture shows the room, not who sat in it; it is kept, as a
JPEG, with the :class:`~emotion.audience.reaction.Reaction`.
:func:`seat_map_png` draws on it: at each viewer's place a disc in the colour of
the emotion that rose most above their resting face over the film (grey when
none rose by :data:`~emotion.audience.panel.RESPONSE_RISE`), with the viewer's
number, and a legend in words underneath.

>>> png = seat_map_png(report, 0)                  # doctest: +SKIP
>>> open("seats.png", "wb").write(png)             # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

#: Width of the kept still (px); the seat map is drawn at this size.
STILL_WIDTH = 960
#: Faces are blurred over their box grown by this factor (hair, ears).
BLUR_GROW = 1.5
_GREY = (150, 150, 150)


def blur_boxes(rgb: np.ndarray, boxes: np.ndarray, grow: float = BLUR_GROW) -> np.ndarray:
    """``rgb`` with each box (grown by ``grow``) blurred beyond recognition (a copy).

    >>> img = np.random.default_rng(0).integers(0, 255, (40, 40, 3), dtype=np.uint8)
    >>> out = blur_boxes(img, np.array([[10, 10, 30, 30]]))
    >>> bool(out[20, 20].std() < img[10:30, 10:30].std()), bool((out[:5] == img[:5]).all())
    (True, True)
    """
    import cv2

    out = rgb.copy()
    h, w = out.shape[:2]
    for x1, y1, x2, y2 in np.asarray(boxes, np.float64).reshape(-1, 4):
        cx, cy, half = (x1 + x2) / 2, (y1 + y2) / 2, grow * max(x2 - x1, y2 - y1) / 2
        a, b = int(max(0, cx - half)), int(min(w, cx + half))
        c, d = int(max(0, cy - half)), int(min(h, cy + half))
        if b - a < 2 or d - c < 2:
            continue
        patch = out[c:d, a:b]
        small = cv2.resize(patch, (max(1, (b - a) // 8), max(1, (d - c) // 8)), interpolation=cv2.INTER_AREA)
        out[c:d, a:b] = cv2.GaussianBlur(cv2.resize(small, (b - a, d - c), interpolation=cv2.INTER_LINEAR),
                                         (0, 0), max(1.0, (b - a) / 10))
    return out


def room_still(recording, at_s: float, boxes: np.ndarray, frame_size: tuple[int, int]) -> bytes:
    """A JPEG of the recording's frame at ``at_s`` seconds, ``STILL_WIDTH`` wide, with ``boxes`` (in the
    recording's pixels) blurred; empty bytes when no frame can be read there."""
    import cv2

    from ..film.video import open_video

    rgb = None
    with open_video(recording) as video:
        for frame in video.frames(start_s=max(0.0, at_s)):    # seeks: a 2-hour recording is not decoded
            rgb = frame.rgb()
            break
    if rgb is None:
        return b""
    rgb = blur_boxes(rgb, boxes * np.float32(rgb.shape[1] / max(1, frame_size[0])))
    scale = STILL_WIDTH / rgb.shape[1]
    if scale < 1:
        rgb = cv2.resize(rgb, (STILL_WIDTH, max(1, round(rgb.shape[0] * scale))), interpolation=cv2.INTER_AREA)
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 85])
    return jpeg.tobytes() if ok else b""


def seat_map_png(report, reaction: int = 0) -> bytes | None:
    """The seat map of reaction number ``reaction`` of ``report`` (PNG); None without a still, without
    viewers, or where viewers are face tracks rather than seats (a laptop webcam, a moving camera)."""
    import cv2

    from ..annotate import emotion_color
    from .report import ACTIONS

    stills = getattr(report, "stills", ()) or ()
    if reaction >= len(stills) or not stills[reaction]:
        return None
    if report.reactions[reaction].get("viewers_by") != "seats":
        return None
    name = report.reactions[reaction]["name"]
    seats = [v for v in report.viewer_summary if v["reaction"] == name]
    if not seats:
        return None
    img = cv2.imdecode(np.frombuffer(stills[reaction], np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        return None
    size = report.reactions[reaction].get("frame_size") or [img.shape[1], img.shape[0]]
    k = img.shape[1] / max(1, size[0])
    overlay = img.copy()
    used = {}
    for v in seats:
        emotion = v.get("strongest_response")
        colour = emotion_color(emotion) if emotion else _GREY
        used[emotion] = colour
        centre = (int(round(v["position_x"] * k)), int(round(v["position_y"] * k)))
        radius = max(9, int(round(0.6 * v.get("face_px", 20) * k)))
        cv2.circle(overlay, centre, radius, colour[::-1], -1, cv2.LINE_AA)
    img = cv2.addWeighted(overlay, 0.55, img, 0.45, 0)
    for v in seats:
        centre = (int(round(v["position_x"] * k)), int(round(v["position_y"] * k)))
        text = str(v["viewer"])
        scale = 0.45 if len(text) > 2 else 0.55
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        org = (centre[0] - tw // 2, centre[1] + th // 2)
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1, cv2.LINE_AA)
    legend = np.full((34, img.shape[1], 3), 250, np.uint8)
    x = 8
    for emotion, colour in sorted(used.items(), key=lambda kv: (kv[0] is None, kv[0] or "")):
        words = ACTIONS.get(emotion, emotion) if emotion else "no clear response"
        cv2.circle(legend, (x + 8, 17), 8, colour[::-1], -1, cv2.LINE_AA)
        cv2.putText(legend, words, (x + 22, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (40, 40, 40), 1, cv2.LINE_AA)
        x += 40 + cv2.getTextSize(words, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)[0][0]
    ok, png = cv2.imencode(".png", np.vstack([img, legend]))
    return png.tobytes() if ok else None
