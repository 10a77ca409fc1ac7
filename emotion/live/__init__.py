"""Live (webcam) emotion analysis: the pieces behind the Webcam page, without Streamlit.

* :class:`LiveSettings`: the frozen settings the frame callback reads;
* :class:`LiveSession`: ``callback`` for ``webrtc_streamer`` (frame in,
  annotated frame out), a latest-wins hand-off to an analysis thread, and a
  bounded queue of :class:`FrameReport` values for the page;
* :class:`RollingEmotions` / :class:`LiveStats`: smoothed per-face history over
  the last 30 s, frames per second and latency;
* :class:`LiveBoard`: the page-side sum of the reports (history, speed, recorder);
* :class:`SessionRecorder` / :class:`Recording`: a per-second table with CSV
  export and a summary (numbers only; no frame is ever stored);
* :func:`rtc_configuration`: offline-by-default ICE servers.

>>> from emotion.live import LiveSession, LiveSettings
>>> session = LiveSession(LiveSettings(), detector)            # doctest: +SKIP
>>> webrtc_streamer(key="cam", video_frame_callback=session.callback,
...                 rtc_configuration=rtc_configuration().config)  # doctest: +SKIP
"""

from .board import LiveBoard
from .recorder import Recording, SecondRow, SessionRecorder
from .rolling import LiveStats, RollingEmotions, SpeedSnapshot
from .rtc import RtcConfig, rtc_configuration
from .session import FrameReport, LatestSlot, LiveSession, ResultQueue
from .settings import LiveSettings
from ..tracking import FaceTracker

__all__ = ["FaceTracker", "FrameReport", "LatestSlot", "LiveBoard", "LiveSession", "LiveSettings", "LiveStats",
           "Recording", "ResultQueue", "RollingEmotions", "RtcConfig", "SecondRow", "SessionRecorder", "SpeedSnapshot",
           "rtc_configuration"]
