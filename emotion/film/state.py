"""What one pass over a video gathers: the state a film pass and a reaction scan share, and save.

A pass decodes a video once and samples it a few times a second. Both kinds of
pass (the film's, :mod:`emotion.film.sampling`, and a viewer's reaction
recording's, :mod:`emotion.audience.scan`) append, per sample, its time, frame
number and scored faces (a :class:`~emotion.face_log.FaceLog`), and record how
far decoding got. A film pass also keeps its cuts and key-frame candidates; a
reaction scan keeps the faces' landmarks (attention is read from them). One
:class:`PassState` holds either, and :class:`~emotion.film.cache.PassCache`
saves and restores it, so an interrupted pass resumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ..face_log import FaceLog
from ..types import Faces
from .keyframes import Candidate
from .shots import Cut


@dataclass
class PassState:
    """Everything a pass has gathered so far; plain values, appended in time order. Not thread-safe."""

    labels: tuple[str, ...]
    width: int
    height: int
    sample_time: list[float] = field(default_factory=list)
    sample_frame: list[int] = field(default_factory=list)
    faces: FaceLog | None = None  # the faces of every sample (made for ``labels`` when not given)
    cuts: list[Cut] = field(default_factory=list)               # a film pass only
    candidates: list[Candidate] = field(default_factory=list)   # a film pass only
    scan_time: float = -1.0       # last frame fed to shot detection
    frames: int = 0               # frames decoded (when done: in the whole file)
    last_time: float = 0.0        # time of the last decoded frame
    duration: float = 0.0         # the video's length, as its header or its last frame says
    detect_side: int = 0          # a reaction scan: the long side frames are detected at (0: the settings')
    smallest_face: float = 0.0    # a reaction scan: the smallest face width (px) seen when choosing it
    done: bool = False
    complete: bool = True
    stopped_at: float | None = None
    reason: str = ""
    errors: int = 0

    def __post_init__(self) -> None:
        if self.faces is None:
            self.faces = FaceLog(self.labels)      # a film keeps no landmarks

    @classmethod
    def for_reactions(cls, labels: tuple[str, ...], width: int, height: int, duration: float = 0.0) -> PassState:
        """The state of a reaction scan: its faces keep their landmarks."""
        return cls(tuple(labels), width, height, duration=float(duration), faces=FaceLog(labels, landmarks=True))

    @property
    def last_sample(self) -> float:
        return self.sample_time[-1] if self.sample_time else -1.0

    @property
    def face_count(self) -> int:
        return len(self.faces)

    def add_sample(self, time: float, frame: int, faces: Faces) -> None:
        """The next sample: its time (s), frame number and scored faces (in the video's pixels)."""
        self.faces.add(len(self.sample_time), faces)
        self.sample_time.append(float(time))
        self.sample_frame.append(int(frame))

    def arrays(self):
        """Face columns joined into arrays (the checkpoint's keys)."""
        return self.faces.arrays()

    def copy(self) -> PassState:
        """An independent copy (a live screening hands one to the panel while it goes on)."""
        return replace(self, sample_time=list(self.sample_time), sample_frame=list(self.sample_frame),
                       faces=self.faces.copy(), cuts=list(self.cuts), candidates=list(self.candidates))
