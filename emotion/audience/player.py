"""The film's picture and sound at any film time, for the live screening (PyAV).

A live screening (:mod:`emotion.audience.live`) streams the film from the
server, so the server must be able to answer "what does the film show, and
sound like, at 00:01:12.500?" for any time, also after a pause or a jump.
:class:`FilmPicture` and :class:`FilmSound` keep one decoder each and move it
forward frame by frame while the film plays; they seek only when asked for a
time behind them or far ahead (a jump). They return plain numpy arrays: RGB
frames and int16 PCM samples; turning those into WebRTC frames is the page's job.

Each object is used from one thread (the WebRTC worker that pulls the
picture, or the one that pulls the sound), so neither takes a lock.

>>> picture = FilmPicture("film.mp4")                 # doctest: +SKIP
>>> picture.at(12.5).shape, picture.duration           # doctest: +SKIP
((360, 640, 3), 55.98)
>>> FilmSound("film.mp4").samples(12.5, 960).shape     # doctest: +SKIP
(960, 2)
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from ..errors import UnreadableMedia

log = logging.getLogger(__name__)

#: A request this far ahead of the decoder is a jump: seek instead of decoding every frame in between.
SEEK_AHEAD_S = 2.0
#: Sound requests within this of where the last one ended continue it (no click from timer jitter).
SOUND_SLACK_S = 0.08
#: Sound is decoded from this long before a seek point: the first frame after a seek decodes wrong (AAC overlap).
SOUND_PREROLL_S = 0.2


def _open(path: str | os.PathLike):
    import av

    path = Path(path)
    if not path.is_file():
        raise UnreadableMedia(f"{path.name}: the film file is missing; choose the film again")
    try:
        return av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise UnreadableMedia(f"{path.name}: cannot be opened as a video ({type(exc).__name__}); "
                              "try an MP4, MOV, MKV, WEBM or AVI file") from None


def _duration(container, stream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    return float(container.duration or 0) / 1_000_000


class FilmPicture:
    """The film's frame on show at a film time, as RGB, at most ``max_width`` wide.

    ``at(t)`` returns the last frame that starts at or before ``t`` (the first
    frame before the film starts, the last one after it ends).
    """

    def __init__(self, path: str | os.PathLike, max_width: int = 640):
        self.name = Path(path).name
        self._container = _open(path)
        if not self._container.streams.video:
            self._container.close()
            raise UnreadableMedia(f"{self.name}: has no picture; a live screening needs a video file")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self.duration = _duration(self._container, self._stream)
        rate = self._stream.average_rate
        self.fps = float(rate) if rate else 25.0
        w, h = self._stream.codec_context.width, self._stream.codec_context.height
        scale = min(1.0, max_width / w) if w else 1.0
        self.size = (max(2, int(w * scale) // 2 * 2), max(2, int(h * scale) // 2 * 2))
        self._frames = None
        self._shown: tuple[float, np.ndarray] | None = None   # (time, rgb) of the frame on show
        self._ahead: tuple[float, np.ndarray] | None = None   # the next decoded frame, not yet due
        self._ended = False
        self.seeks = 0

    def _decode(self):
        for frame in self._container.decode(self._stream):
            if frame.pts is None:
                continue
            t = float(frame.pts * self._stream.time_base)
            w, h = self.size
            yield t, frame.to_ndarray(format="rgb24", width=w, height=h)

    def _seek(self, t: float) -> None:
        self.seeks += 1
        t = min(t, max(0.0, self.duration - 1.0))   # past the end: land on the last frames, not nothing
        target = max(0, int(t / self._stream.time_base)) if self._stream.time_base else 0
        self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        self._frames, self._shown, self._ahead, self._ended = self._decode(), None, None, False

    def at(self, t: float) -> np.ndarray:
        """The RGB frame (H, W, 3) on show at film time ``t`` seconds."""
        t = float(t)
        shown = self._shown
        if self._frames is None or (shown is not None and (t < shown[0] - 1e-6 or t > shown[0] + SEEK_AHEAD_S)):
            self._seek(t)
        while not self._ended:
            if self._ahead is None:
                self._ahead = next(self._frames, None)
                if self._ahead is None:
                    self._ended = True
                    break
            if self._shown is not None and self._ahead[0] > t + 1e-6:
                break
            self._shown, self._ahead = self._ahead, None
        if self._shown is None:   # nothing decodable after the seek point
            w, h = self.size
            return np.zeros((h, w, 3), np.uint8)
        return self._shown[1]

    @property
    def shown_time(self) -> float | None:
        """The film time of the frame last returned by :meth:`at` (None before the first)."""
        return None if self._shown is None else self._shown[0]

    def close(self) -> None:
        self._container.close()


class FilmSound:
    """The film's sound from a film time on, as int16 samples (n, channels) at ``rate`` Hz.

    Consecutive requests (each starting where the last ended, within
    :data:`SOUND_SLACK_S`) play on without a gap; any other time seeks. A film
    without sound gives silence.
    """

    def __init__(self, path: str | os.PathLike, rate: int = 48000, channels: int = 2):
        import av

        self.rate, self.channels = int(rate), int(channels)
        self._container = _open(path)
        streams = self._container.streams.audio
        self._stream = streams[0] if streams else None
        self._layout = "stereo" if self.channels == 2 else "mono"
        self._av = av
        self._buffer = np.zeros((0, self.channels), np.int16)
        self._start = 0.0          # film time of self._buffer[0]
        self._frames = None
        self._next: float | None = None   # where the last request ended
        self.seeks = 0

    @property
    def silent(self) -> bool:
        return self._stream is None

    def _decode(self):
        resampler = self._av.AudioResampler(format="s16", layout=self._layout, rate=self.rate)
        for frame in self._container.decode(self._stream):
            if frame.pts is None:
                continue
            t = float(frame.pts * self._stream.time_base)
            for out in resampler.resample(frame):
                yield t, out.to_ndarray().reshape(-1, self.channels)
                t += out.samples / self.rate

    def _seek(self, t: float) -> None:
        self.seeks += 1
        target = max(0, int((t - SOUND_PREROLL_S) / self._stream.time_base))
        self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
        self._frames = self._decode()
        self._buffer, self._start = np.zeros((0, self.channels), np.int16), t
        first = next(self._frames, None)
        if first is not None:
            self._start, self._buffer = first
            if self._start < t - 0.05:   # the pre-roll frame itself may be wrong: never play it
                second = next(self._frames, None)
                if second is not None:
                    self._start, self._buffer = second

    def samples(self, t: float, n: int) -> np.ndarray:
        """``n`` samples of sound from film time ``t`` (or from where the last request ended, if that is close)."""
        out = np.zeros((int(n), self.channels), np.int16)
        if self._stream is None or n <= 0:
            return out
        if self._next is not None and abs(t - self._next) <= SOUND_SLACK_S:
            t = self._next
        end = self._start + len(self._buffer) / self.rate
        if self._frames is None or t < self._start - 1e-3 or t > end + SEEK_AHEAD_S:
            self._seek(t)
        self._next = t + n / self.rate
        # drop what lies before t, then decode until the buffer covers n samples
        skip = int(round((t - self._start) * self.rate))
        if skip < 0:   # the decoder landed after t (the film's first sound starts late): lead with silence
            lead = min(-skip, n)
            self._buffer = np.concatenate([np.zeros((lead, self.channels), np.int16), self._buffer])
            self._start -= lead / self.rate
            skip = 0
        while len(self._buffer) < skip + n:
            chunk = next(self._frames, None)
            if chunk is None:
                break
            self._buffer = np.concatenate([self._buffer, chunk[1]])
        got = self._buffer[skip:skip + n]
        out[:len(got)] = got
        used = min(len(self._buffer), skip + n)
        self._buffer = self._buffer[used:]
        self._start += used / self.rate
        return out

    def close(self) -> None:
        self._container.close()
