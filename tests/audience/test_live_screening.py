"""The live screening's clock, stamps and reaction, with fake clocks, fake players and a fake detector.

The fake camera shows a bright square (the fake detector's "face"); the fake
clock moves only when the test says, so every expected film time is computed
by hand from the pauses and jumps the test makes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from live_fakes import LABELS, FakeClock, FakeDetector
from synth_video import write_video

from emotion.audience import AudienceSettings
from emotion.audience.live import LiveScreening, ScreeningClock
from emotion.audience.player import FilmPicture
from emotion.audience.sync import film_times
from emotion.errors import EmotionError, UnreadableMedia


def square(x=40, y=30, side=40, w=160, h=120):
    rgb = np.full((h, w, 3), 20, np.uint8)
    rgb[y:y + side, x:x + side] = 255
    return rgb


class FakePicture:
    duration = 60.0

    def __init__(self):
        self.asked: list[float] = []

    def at(self, t):
        self.asked.append(t)
        return np.zeros((4, 4, 3), np.uint8)


class FakeSound:
    channels = 2

    def __init__(self):
        self.asked: list[float] = []

    def samples(self, t, n):
        self.asked.append(t)
        return np.ones((n, 2), np.int16)


# ----------------------------------------------------------------------------------------------- the clock

def test_clock_counts_film_time_through_pause_and_seeks():
    clock = FakeClock(100.0)
    c = ScreeningClock(60.0, clock=clock)
    assert not c.started and c.position() == 0.0 and math.isnan(c.now()) and c.film_at(0.0) is None
    c.start()                      # session 0 = film 0
    clock.advance(10)
    assert c.position() == 10.0 and c.playing
    c.pause()                      # session 10: paused at film 10
    clock.advance(5)
    assert c.position() == 10.0 and not c.playing
    c.seek(3.0)                    # session 15: back to film 3, still paused
    clock.advance(1)
    c.play()                       # session 16: plays from 3
    clock.advance(4)
    assert c.position() == pytest.approx(7.0)
    c.seek(40.0)                   # session 20: forward to 40 while playing
    clock.advance(2)
    assert c.position() == pytest.approx(42.0)
    expected = {0.0: 0.0, 9.5: 9.5, 10.0: None, 12.0: None, 15.5: None, 16.0: 3.0, 19.0: 6.0, 20.0: 40.0,
                21.5: 41.5, -1.0: None}
    assert {s: c.film_at(s) for s in expected} == pytest.approx(expected)
    # the same moments through Reaction's piecewise mapping (what the panel uses)
    playing = [s for s, f in expected.items() if f is not None]
    assert film_times(playing, c.pieces()).tolist() == pytest.approx([expected[s] for s in playing])


def test_clock_stops_at_the_end_and_plays_again_from_the_start():
    clock = FakeClock()
    c = ScreeningClock(10.0, clock=clock)
    c.start()
    clock.advance(12)
    assert c.position() == 10.0 and not c.playing and c.ended and c.film_at(11.0) is None
    c.play()
    clock.advance(1)
    assert c.position() == pytest.approx(1.0) and c.playing


def test_seek_before_the_start_sets_where_the_film_begins():
    clock = FakeClock()
    c = ScreeningClock(30.0, clock=clock)
    c.seek(12.0)
    assert c.position() == 12.0 and not c.started
    c.start()
    clock.advance(2)
    assert c.position() == pytest.approx(14.0) and c.pieces() == ((0.0, -12.0),)
    c.seek(99)                     # past the end: clipped, and the film has ended
    assert c.position() == 30.0 and c.ended


@pytest.mark.parametrize("duration", [0, -1, float("nan"), float("inf")])
def test_clock_needs_a_positive_duration(duration):
    with pytest.raises(EmotionError, match="duration"):
        ScreeningClock(duration)


def test_seek_needs_a_number():
    with pytest.raises(EmotionError, match="seek"):
        ScreeningClock(5.0).seek(float("nan"))


# ------------------------------------------------------------------------------------------- the screening

def screening(clock, latency_s=0.0, probs=None):
    return LiveScreening("film.mp4", FakeDetector(probs=probs), name="live-1", picture=FakePicture(),
                         sound=FakeSound(), clock=clock, latency_s=latency_s, autostart=False)


def show(s: LiveScreening, clock: FakeClock, seconds: float, every: float = 0.25) -> None:
    """The camera sends a frame every ``every`` s for ``seconds``; each is analysed at once."""
    for _ in range(int(round(seconds / every))):
        s.camera(square())
        s.session.step()
        clock.advance(every)


def test_readings_are_stamped_with_film_time_through_pause_and_seeks():
    clock = FakeClock()
    s = screening(clock)
    s.camera(square())                 # before the film streams: not analysed
    assert s.stats().paused_frames == 1 and s.session.received == 0
    s.frame()                          # the first film frame starts the film
    show(s, clock, 2.0)                # film 0 .. 1.75
    s.clock.pause()
    show(s, clock, 1.0)                # paused: 4 camera frames, none analysed
    s.clock.seek(30.0)
    s.clock.play()
    show(s, clock, 1.0)                # film 30 .. 30.75
    s.clock.seek(5.0)                  # backwards while playing
    show(s, clock, 1.0)                # film 5 .. 5.75
    reaction = s.reaction(AudienceSettings())
    expected = [*np.arange(0, 2, 0.25), *np.arange(30, 31, 0.25), *np.arange(5, 6, 0.25)]
    assert reaction.film_time.tolist() == pytest.approx(expected, abs=1e-9)
    assert reaction.sync == "live" and reaction.offset_s == 0.0 and reaction.name == "live-1"
    assert reaction.viewers == 1 and reaction.face.all() and reaction.attentive.all()
    assert reaction.probs[0, :, list(LABELS).index("happy")] == pytest.approx(0.7)
    stats = s.stats()
    assert (stats.readings, stats.with_face, stats.paused_frames, stats.dropped) == (16, 16, 5, 0)
    assert stats.played_s == pytest.approx(4.0) and stats.per_second == pytest.approx(16 / 4)
    assert reaction.recording_duration_s == pytest.approx(5.0)   # 2 s play, 1 s pause, 2 s play
    assert reaction.summary()["sync"] == "live"


def test_a_frame_keeps_its_arrival_stamp_when_the_film_pauses_before_it_is_analysed():
    clock = FakeClock()
    s = screening(clock)
    s.frame()
    clock.advance(3.0)
    s.camera(square())                 # arrives at film 3.0
    clock.advance(0.1)
    s.clock.pause()
    clock.advance(1.0)
    s.session.step()                   # analysed during the pause
    assert s.reaction().film_time.tolist() == [3.0]


def test_latency_moves_stamps_back_and_drops_what_falls_before_the_start():
    clock = FakeClock()
    s = screening(clock, latency_s=0.5)
    s.frame()
    show(s, clock, 1.0)                # arrivals at 0, .25, .5, .75 -> film -.5 (dropped), -.25 (dropped), 0, .25
    assert s.reaction().film_time.tolist() == pytest.approx([0.0, 0.25])
    assert s.stats().dropped == 2
    assert any("left out" in w for w in s.reaction().warnings)


def test_frames_after_the_end_are_not_analysed():
    clock = FakeClock()
    s = LiveScreening("film.mp4", FakeDetector(), picture=FakePicture(), sound=FakeSound(), clock=clock,
                      duration_s=1.0, autostart=False)
    s.frame()
    show(s, clock, 2.0)
    assert s.reaction().film_time.max() < 1.0 and s.stats().readings == 4 and s.stats().paused_frames == 4
    assert s.clock.ended and s.played_s() == pytest.approx(1.0)


def test_the_camera_is_read_four_times_a_second_and_frames_between_cost_nothing():
    clock = FakeClock()
    s = screening(clock)
    s.frame()
    made = []

    def frame():           # the page's conversion of a WebRTC frame: only for frames that are read
        made.append(1)
        return square()

    for _ in range(20):    # a 10 fps camera for 2 s
        s.camera(frame)
        s.session.step()
        clock.advance(0.1)
    stats = s.stats()
    assert stats.readings == len(made) == 8 and stats.between_frames == 12
    cells = np.floor(s.reaction().film_time * 4 + 1e-9)
    assert cells.tolist() == list(range(8)), "the first frame of each quarter second"
    every = LiveScreening("film.mp4", FakeDetector(), picture=FakePicture(), sound=FakeSound(), clock=clock,
                          readings_per_s=0, autostart=False)
    every.frame()
    for _ in range(5):
        every.camera(square())
        every.session.step()
        clock.advance(0.1)
    assert every.stats().readings == 5, "0: every camera frame"
    with pytest.raises(EmotionError, match="readings_per_s"):
        LiveScreening("film.mp4", FakeDetector(), picture=FakePicture(), sound=FakeSound(), readings_per_s=-1,
                      autostart=False)


def test_no_face_is_a_reading_without_a_viewer_face():
    clock = FakeClock()
    s = screening(clock)
    s.frame()
    for _ in range(8):
        s.camera(np.full((120, 160, 3), 20, np.uint8))   # nobody in front of the camera
        s.session.step()
        clock.advance(0.5)
    reaction = s.reaction()
    assert len(reaction.recording_time) == 8 and reaction.viewers == 0
    assert any("no viewer" in w for w in reaction.warnings)


def test_saving_before_any_reading_says_what_to_do():
    s = screening(FakeClock())
    with pytest.raises(EmotionError, match="start the film"):
        s.reaction()


def test_film_picture_and_sound_follow_the_clock():
    clock = FakeClock()
    s = screening(clock)
    assert s.audio(960).sum() == 0                      # not started: silence
    s.frame()
    clock.advance(2.0)
    s.frame()
    s.clock.pause()
    assert s.audio(960).sum() == 0 and s.picture.asked == [0.0, 2.0]
    s.clock.seek(20.0)
    s.clock.play()
    clock.advance(0.5)
    assert s.audio(960).shape == (960, 2) and s._sound.asked == [20.5]


def test_the_panel_takes_a_live_reaction(tmp_path):
    """A live reaction sits in the panel beside recorded ones, on the same film clock."""
    from film_fakes import fake_detector
    from synth_video import NAVY, RED, scene_video

    from emotion.audience import analyze_audience
    from emotion.film import FilmSettings, analyze_video

    film = analyze_video(scene_video(tmp_path / "film.mp4", [(RED, 50), (NAVY, 50)]),
                         film=FilmSettings(fps=4, segments="shots"), detector=fake_detector(), cache=False)
    clock = FakeClock()
    s = LiveScreening(tmp_path / "film.mp4", FakeDetector(), picture=FakePicture(), sound=FakeSound(), clock=clock,
                      autostart=False, duration_s=4.0)
    s.frame()
    show(s, clock, 1.0)
    s.clock.seek(3.0)
    show(s, clock, 1.0)
    reaction = s.reaction()
    from emotion.audience import Reaction

    # the fake camera model names other emotions than the film's fake model: give it the film's
    probs = np.zeros((1, 8, len(film.labels)), np.float32)
    probs[..., list(film.labels).index("happy")] = 1.0
    same = Reaction(reaction.name, film.labels, reaction.recording_time, reaction.face, reaction.attentive, probs,
                    sync="live", pieces=reaction.pieces)
    report = analyze_audience(film, [same])
    assert report.reactions[0]["sync"] == "live"
    viewers = report.seconds.viewers.tolist()
    assert viewers == [1, 0, 0, 1]                          # seconds 0 and 3 were watched, 1 and 2 skipped


# ---------------------------------------------------------------------------------------------- the player

@pytest.fixture(scope="module")
def counting_film(tmp_path_factory):
    """3 s at 20 fps; frame i is flat grey 4*i, so the frame on show tells its own number."""
    frames = [np.full((48, 64, 3), 4 * i, np.uint8) for i in range(60)]
    return write_video(tmp_path_factory.mktemp("player") / "count.mp4", frames, fps=20)


def shown_index(rgb) -> int:
    return int(round(float(rgb.mean()) / 4))


def test_picture_shows_the_frame_of_each_film_time_through_seeks(counting_film):
    picture = FilmPicture(counting_film)
    assert picture.duration == pytest.approx(3.0, abs=0.06) and picture.size == (64, 48)
    times = [0.0, 0.01, 0.05, 0.26, 0.5, 2.5, 0.3, 1.0, 1.02, 2.95, 10.0]   # forward, jump, back, past the end
    got = [shown_index(picture.at(t)) for t in times]
    assert got == [min(59, int(t * 20 + 1e-9)) for t in times]
    assert picture.seeks == 3            # to the first frame, back to 0.3, and past the end (2.5 is decoded to)
    picture.close()


def test_picture_of_a_missing_film_says_so(tmp_path):
    with pytest.raises(UnreadableMedia, match="missing"):
        FilmPicture(tmp_path / "gone.mp4")
    (tmp_path / "text.mp4").write_text("not a film")
    with pytest.raises(UnreadableMedia, match="cannot be opened"):
        FilmPicture(tmp_path / "text.mp4")


def test_sound_plays_on_without_gaps_and_seeks_to_the_same_samples(shared_media):
    """20 ms slices asked at jittery times join into the film's own sound; a jump lands on the same samples."""
    from emotion.audience.player import FilmSound

    whole = FilmSound(shared_media.TRAILER).samples(10.0, 48000)            # one second from 10 s
    sliced = FilmSound(shared_media.TRAILER)
    rng = np.random.default_rng(0)
    parts = [sliced.samples(10.0 + 0.02 * k + (rng.uniform(-0.01, 0.01) if k else 0.0), 960) for k in range(50)]
    assert np.array_equal(np.concatenate(parts), whole) and sliced.seeks == 1
    later = FilmSound(shared_media.TRAILER).samples(30.0, 4800)
    sliced.samples(30.0, 4800)                                               # a jump: seeks
    again = sliced.samples(30.1, 4800)
    fresh = FilmSound(shared_media.TRAILER).samples(30.1, 4800)
    assert sliced.seeks == 2 and np.abs(later).mean() > 100
    a, b = again[100:-100, 0].astype(np.float64), fresh[:, 0].astype(np.float64)
    match = [np.corrcoef(a, b[100 + lag:len(b) - 100 + lag])[0, 1] for lag in range(-2, 3)]
    assert max(match) > 0.999                   # the same sound, within two samples (42 microseconds)


def test_a_frame_that_waited_on_a_busy_server_keeps_the_moment_it_was_filmed():
    clock = FakeClock()
    s = screening(clock)
    s.frame()
    sender = 1000.0                     # the camera's own clock (RTP time), any origin
    stamps = []
    for k in range(12):                 # filmed every 0.25 s; the server falls behind by 0.1 s a frame
        clock.advance(0.25 if k == 0 else 0.35)
        stamps.append(s.camera(square(), captured_s=sender + 0.25 * k))
        s.session.step()
    # the first frame arrived fastest: its delay fixes the clocks; later ones keep their filming times
    assert stamps == pytest.approx([0.25 + 0.25 * k for k in range(12)], abs=1e-3)
    assert s.reaction().film_time.tolist() == pytest.approx(stamps, abs=1e-3)
    assert s.captured_at(None) == pytest.approx(s.clock.now()), "no timestamp: the arrival time"
    # a new stream (its timestamps jump back) starts afresh: its first frame counts from its arrival
    clock.advance(0.05)
    assert s.captured_at(sender + 3.25) == pytest.approx(3.5, abs=1e-3)
    assert s.captured_at(5.0) == pytest.approx(s.clock.now())


def test_the_film_tracks_are_relayed_newest_frame_only():
    from aiortc.contrib.media import MediaRelay
    from aiortc.mediastreams import VideoStreamTrack

    from emotion.ui.audience_live import latest_only

    relay = MediaRelay()
    film, camera = VideoStreamTrack(), VideoStreamTrack()
    assert latest_only(film, relay) is film
    latest_only(film, relay)                          # patched once, however often the page reruns
    proxy = relay.subscribe(film)
    assert proxy._buffered is False and relay.subscribe(proxy)._buffered is False, "both hops keep the newest only"
    assert relay.subscribe(camera)._buffered is True, "other tracks (the camera, other pages) as before"
