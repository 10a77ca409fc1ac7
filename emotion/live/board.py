"""The page-side state of one viewer: what the reports from a :class:`LiveSession` add up to.

The page calls :meth:`LiveBoard.pump` on every refresh; it drains the
session's results queue into the rolling chart, the speed figures and, while
recording, the session recorder. Keeping this here (not in the page) makes it
testable without Streamlit and keeps the page a thin layer of widgets.

>>> board = LiveBoard(LiveSettings())
>>> board.pump(session)                                     # doctest: +SKIP
3
"""

from __future__ import annotations

from .recorder import Recording, SessionRecorder
from .rolling import LiveStats, RollingEmotions
from .settings import LiveSettings


class LiveBoard:
    """Rolling history, speed, recorder and the last finished recording; owned by one page session."""

    def __init__(self, settings: LiveSettings):
        self.rolling = RollingEmotions(settings.window_s, settings.smoothing_s)
        self.stats = LiveStats()
        self.recorder = SessionRecorder()
        self.recording: Recording | None = None
        self.reports = 0

    def configure(self, settings: LiveSettings) -> None:
        """Follow changed window/smoothing settings without losing what is on screen."""
        self.rolling.window_s, self.rolling.smoothing_s = settings.window_s, settings.smoothing_s

    def pump(self, session) -> int:
        """Take every waiting report from ``session``; returns how many there were."""
        reports = session.drain()
        for report in reports:
            self.rolling.add(report)
            self.stats.add(report)
            self.recorder.add(report)
        self.reports += len(reports)
        return len(reports)

    def start_recording(self, now: float) -> None:
        """Start a new recording at wall-clock ``now``; a previous finished one is kept until the next stop."""
        self.recorder.start(now)

    def stop_recording(self, session, now: float) -> Recording:
        """Take the reports still queued, then end the recording at ``now``."""
        if session is not None:
            self.pump(session)
        self.recording = self.recorder.stop(now)
        return self.recording
