"""Read scheduling and progress reporting, without a page."""

import pyzarr_web.ui.loader as loader
from pyzarr_web.ui.loader import ProgressThrottle, read_strides
from pyzarr_web.ui.slicing import ViewSpec


def test_a_read_that_finishes_at_once_shows_no_progress():
    shown = []
    progress = ProgressThrottle(lambda done, total: shown.append((done, total)))
    for done in range(1, 5):
        progress(done, 4)
    assert shown == [] and not progress.shown


def test_a_slow_read_shows_progress_then_its_end(monkeypatch):
    clock = iter(range(100))
    monkeypatch.setattr(loader.time, "perf_counter", lambda: next(clock) * 0.06)
    shown = []
    progress = ProgressThrottle(lambda done, total: shown.append((done, total)))
    for done in range(1, 5):
        progress(done, 4)
    assert shown[0] == (2, 4) and shown[-1] == (4, 4) and progress.shown


def test_reads_are_strided_only_when_the_plane_is_too_big_to_read_whole():
    small = ViewSpec.default((3, 1000, 1000))
    assert read_strides(small, 8) == {}
    big = ViewSpec.default((3, 20000, 20000))
    assert read_strides(big, 2) == {1: 20, 2: 20}
    stepped = ViewSpec.from_text("0,::10,::10", (3, 20000, 20000))
    assert read_strides(stepped, 2) == {}  # the user's step already thins it to 2000 x 2000
