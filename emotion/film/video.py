"""Reading a video once: frames with exact timestamps, streamed, never held.

:func:`open_video` opens a file with PyAV (FFmpeg) and yields :class:`Frame`
views (:mod:`emotion.film.frame`) one at a time, in presentation order, with threaded decoding. Time comes
from each frame's ``pts`` times the stream's ``time_base``, so variable frame
rate footage gets true timecodes, not ``index / fps``. A rotation stored in
the file (phones write one) is applied to the pixels a caller asks for.

A file that breaks part-way is read as far as it goes: :attr:`VideoReader.end`
then says where decoding stopped and why, so the caller can report it instead
of losing what was read. Files that cannot be read at all raise
:class:`~emotion.errors.UnreadableMedia`.

>>> with open_video("trailer.mp4") as video:                      # doctest: +SKIP
...     print(video.info.width, video.info.height, round(video.info.fps, 3))
...     times = [frame.time for frame in video.frames()]
640 360 23.976
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Self

import numpy as np

from ..errors import UnreadableMedia
from .frame import Frame

log = logging.getLogger(__name__)

#: Consecutive undecodable packets after which decoding gives up on a file.
MAX_CONSECUTIVE_ERRORS = 50
_WHAT_TO_DO = "choose a video file such as MP4, MOV, MKV, AVI or WebM"


@dataclass(frozen=True)
class VideoInfo:
    """What the container says about the video stream, plus its display rotation.

    ``width``/``height`` are as displayed (after ``rotation``). ``fps`` is the
    average frame rate (0 when unknown), ``duration`` the header's length in
    seconds (0 when unknown) and ``frames`` its frame count (0 when unknown);
    both are only what the file claims.
    """

    name: str
    width: int
    height: int
    rotation: int
    fps: float
    duration: float
    frames: int
    codec: str

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"VideoInfo: expected a positive frame size, got {self.width}x{self.height}")
        if self.rotation not in (0, 90, 180, 270):
            raise ValueError(f"VideoInfo.rotation: expected 0, 90, 180 or 270, got {self.rotation}")
        if self.fps < 0 or self.duration < 0 or self.frames < 0:
            raise ValueError("VideoInfo: fps, duration and frames must not be negative")

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "width": self.width, "height": self.height, "rotation": self.rotation,
                "fps": round(self.fps, 6), "duration": round(self.duration, 6), "frames": self.frames,
                "codec": self.codec}


@dataclass(frozen=True)
class DecodeEnd:
    """How a decoding pass ended.

    ``complete`` is False when the file stopped early (truncated or corrupt);
    ``stopped_at`` is then the time of the last frame read and ``reason``
    says what happened. ``errors`` counts packets that could not be decoded
    and were skipped.
    """

    complete: bool
    frames: int
    last_time: float
    stopped_at: float | None = None
    reason: str = ""
    errors: int = 0


def _normalise_rotation(degrees: float | None) -> int:
    """FFmpeg's display-matrix angle (counter-clockwise, -180..180) as 0, 90, 180 or 270."""
    if degrees is None or not np.isfinite(degrees):
        return 0
    return round(float(degrees) / 90.0) % 4 * 90


def _source_name(source: Any) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    return str(getattr(source, "name", "video"))


class VideoReader:
    """An open video: :attr:`info`, one pass of :meth:`frames`, then :attr:`end`.

    Use as a context manager so the file is closed. Only one pass is
    possible; open the file again to read it again.
    """

    def __init__(self, source: str | os.PathLike | Any, threads: str = "AUTO"):
        import av

        self.name = _source_name(source)
        if isinstance(source, (str, os.PathLike)):
            path = Path(source)
            if path.is_dir():
                raise UnreadableMedia(f"{path}: is a folder, not a video file; pass one of the video files inside it")
            if not path.is_file():
                raise UnreadableMedia(f"{path}: no such file; check the path")
            if path.stat().st_size == 0:
                raise UnreadableMedia(f"{self.name}: the file is empty (0 bytes); {_WHAT_TO_DO}")
            source = str(path)
        try:
            self._container = av.open(source, mode="r", metadata_errors="ignore")
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            # FFmpeg's message quotes the full path; the user knows the file by its name.
            reason = _first_line(exc).replace(f": '{source}'", "").replace(str(source), self.name)
            raise UnreadableMedia(f"{self.name}: not a video file FFmpeg can read ({reason}); "
                                  f"{_WHAT_TO_DO}") from exc
        try:
            self._setup(threads)
        except BaseException:
            self._container.close()
            raise
        self.end: DecodeEnd | None = None

    def _setup(self, threads: str) -> None:
        streams = self._container.streams.video
        if not streams:
            kinds = sorted({s.type for s in self._container.streams}) or ["none"]
            raise UnreadableMedia(f"{self.name}: the file has no video stream (streams: {', '.join(kinds)}); "
                                  f"{_WHAT_TO_DO}")
        stream = streams[0]
        if stream.codec_context is None:
            # PyAV can crash the interpreter when decoding such a stream, so stop here.
            raise UnreadableMedia(f"{self.name}: FFmpeg cannot set up a decoder for its video stream "
                                  f"(the file is probably truncated at the start); {_WHAT_TO_DO}")
        stream.thread_type = threads
        self._stream = stream
        self._time_base: Fraction = stream.time_base or Fraction(1, 90000)
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate else 0.0
        duration = 0.0
        if stream.duration and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif self._container.duration:
            duration = self._container.duration / 1_000_000
        self._fps = fps
        self._packets = self._container.demux(stream)
        self._pending: list = []
        self._errors = 0
        self._stop_reason = ""
        first = self._next_av_frame()
        if first is None:
            reason = f" ({self._stop_reason})" if self._stop_reason else ""
            raise UnreadableMedia(f"{self.name}: no video frame could be decoded{reason}; the clip is empty "
                                  f"or damaged; {_WHAT_TO_DO}")
        self._first = first
        self._rotation = _normalise_rotation(getattr(first, "rotation", 0))
        w, h = first.width, first.height
        if self._rotation in (90, 270):
            w, h = h, w
        self.info = VideoInfo(name=self.name, width=w, height=h, rotation=self._rotation, fps=fps,
                              duration=max(0.0, duration), frames=int(stream.frames or 0),
                              codec=stream.codec_context.name or "")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._container.close()

    def _next_av_frame(self):
        """The next decoded PyAV frame, or None at the end (or where the file breaks)."""
        import av

        consecutive = 0
        while not self._pending:
            if self._packets is None:
                return None
            try:
                packet = next(self._packets)
            except StopIteration:
                self._packets = None
                return None
            except (av.error.FFmpegError, OSError) as exc:
                self._stop_reason = f"reading the file failed: {_first_line(exc)}"
                self._packets = None
                self._pending = self._flush()
                continue
            try:
                self._pending = list(packet.decode())
                consecutive = 0
            except av.error.FFmpegError as exc:
                self._errors += 1
                consecutive += 1
                log.debug("%s: skipping an undecodable packet: %s", self.name, exc)
                if consecutive >= MAX_CONSECUTIVE_ERRORS:
                    self._stop_reason = f"{consecutive} packets in a row could not be decoded ({_first_line(exc)})"
                    self._packets = None
        return self._pending.pop(0)

    def _flush(self) -> list:
        """Frames the (threaded) decoder still holds when the input ends abruptly."""
        import av

        try:
            return list(self._stream.codec_context.decode(None))
        except (av.error.FFmpegError, ValueError) as exc:
            log.debug("%s: flushing the decoder failed: %s", self.name, exc)
            return []

    def frame_times(self) -> list[float] | None:
        """The time (s since the first frame) of every frame, from the packets' timestamps alone (no decoding),
        in presentation order; None when a packet has no timestamp (then only a full pass knows the times).
        Opens the file a second time; this reader is left as it was."""
        import av

        origin = self._first.pts if self._first is not None else None
        if origin is None:
            return None
        pts = []
        with av.open(self._container.name, mode="r", metadata_errors="ignore") as c:
            for packet in c.demux(c.streams.video[0]):
                if packet.size == 0:
                    continue
                if packet.pts is None:
                    return None
                pts.append(packet.pts)
        tb = self._time_base
        return [max(0.0, float((p - origin) * tb)) for p in sorted(pts)]

    def frames(self, start_s: float = 0.0, first_frame: int = 0) -> Iterator[Frame]:
        """Every frame in presentation order; sets :attr:`end` when the pass finishes.

        Timestamps are seconds since the first frame. A frame without a
        timestamp gets the previous one plus one average frame interval, and a
        timestamp that goes backwards is held at the previous value, so times
        never decrease. ``start_s`` > 0 seeks to the key frame before that
        time and yields from the first frame at or after it (a part of a long
        recording read by one of several workers), numbered from ``first_frame``
        (its number in the whole file, when the caller knows it); times stay
        those of the whole file.
        """
        if self._first is None:
            raise RuntimeError("VideoReader.frames() can be called only once; open the video again")
        frame, self._first = self._first, None
        tb = self._time_base
        step = 1.0 / self._fps if self._fps > 0 else 0.04
        origin = frame.pts
        index, last = 0, 0.0
        if start_s > 0 and origin is not None:
            self._container.seek(int(origin + start_s / tb) - 1, stream=self._stream, backward=True, any_frame=False)
            self._packets, self._pending = self._container.demux(self._stream), []
            frame = self._next_av_frame()
            while frame is not None and (frame.pts is None or float((frame.pts - origin) * tb) < start_s - 1e-9):
                frame = self._next_av_frame()
            last, index = start_s, first_frame
        while frame is not None:
            pts = frame.pts
            if pts is None or origin is None:
                t = last + step if index else 0.0
            else:
                t = float((pts - origin) * tb)
                t = max(t, last)
            last = t
            yield Frame(index, t, pts, frame, self._rotation)
            index += 1
            frame = self._next_av_frame()
        self.end = self._finish(index, last)

    def _finish(self, frames: int, last: float) -> DecodeEnd:
        """Decide whether the pass reached the end the header promises."""
        reason = self._stop_reason
        frame_time = 1.0 / self._fps if self._fps > 0 else 0.04
        expected = self.info.duration
        if not reason and expected > 0 and last + frame_time < expected - max(1.0, 3 * frame_time):
            reason = (f"the file ends at {last:.2f} s but its header says {expected:.2f} s; "
                      "it is probably truncated")
        if reason:
            log.warning("%s: decoding stopped at %.2f s: %s", self.name, last, reason)
            return DecodeEnd(False, frames, last, stopped_at=last, reason=reason, errors=self._errors)
        if self._errors:
            log.warning("%s: %d undecodable packets were skipped", self.name, self._errors)
        return DecodeEnd(True, frames, last, errors=self._errors)


def _first_line(exc: BaseException) -> str:
    """What went wrong, in FFmpeg's words, without the error number or the file's path."""
    text = getattr(exc, "strerror", None) or str(exc).strip()
    text = re.sub(r"\[Errno -?\d+\]\s*", "", text.splitlines()[0] if text else "")
    filename = getattr(exc, "filename", None)
    if filename:
        text = text.replace(f": '{filename}'", "").replace(str(filename), "the file")
    return text.strip() or type(exc).__name__


def open_video(source: str | os.PathLike | Any, threads: str = "AUTO") -> VideoReader:
    """Open a video file (path or binary file object) for one streaming pass.

    ``threads`` is PyAV's decoder threading mode (``AUTO``, ``FRAME``,
    ``SLICE`` or ``NONE``). Raises :class:`UnreadableMedia` for a missing or
    empty file, a container FFmpeg cannot read, a file without a video stream,
    or a clip with no decodable frame.

    >>> with open_video("clip.mp4") as v:                     # doctest: +SKIP
    ...     first = next(v.frames()).rgb(max_side=640)
    """
    return VideoReader(source, threads=threads)


def probe(source: str | os.PathLike | Any) -> VideoInfo:
    """The :class:`VideoInfo` of a file, reading only its first frame."""
    with open_video(source) as video:
        return video.info

