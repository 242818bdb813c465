"""The progress bar of long runs (engine.simulation.progress)."""

from __future__ import annotations

import io

import pytest

from engine.simulation.progress import Progress, format_duration


class FakeClock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def frames(stream: io.StringIO) -> list[str]:
    """The successive drawings (each starts with a carriage return)."""
    return [f.rstrip() for f in stream.getvalue().rstrip("\n").split("\r") if f]


def test_shows_percent_rate_and_eta() -> None:
    stream, clock = io.StringIO(), FakeClock()
    bar = Progress(1000, stream=stream, enabled=True, clock=clock)
    clock.now += 2.0
    bar.update(250)
    [frame] = frames(stream)
    assert frame == " 25% [######------------------] 250/1,000 cases  125 cases/s  ETA 0:06"


def test_redraws_at_most_ten_times_a_second() -> None:
    stream, clock = io.StringIO(), FakeClock()
    bar = Progress(10_000, stream=stream, enabled=True, clock=clock)
    for _ in range(1000):  # 1000 updates within 0.5 s
        clock.now += 0.0005
        bar.update()
    assert len(frames(stream)) == 5  # at 0.0005 s, then every 0.1 s
    assert bar.done == 1000


def test_close_draws_the_final_state_once_and_ends_the_line() -> None:
    stream, clock = io.StringIO(), FakeClock()
    with Progress(40, stream=stream, enabled=True, clock=clock) as bar:
        clock.now += 0.01
        bar.update(10)
        clock.now += 0.02  # too soon to redraw
        bar.update(30)
        assert len(frames(stream)) == 1
    bar.close()
    text = stream.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1
    last = frames(stream)[-1]
    assert last.startswith("100% [########################] 40/40 cases")
    assert last.endswith("done in 0:00")
    bar.update(5)  # after close: counted, not drawn
    assert stream.getvalue() == text


def test_shorter_line_overwrites_the_longer_one() -> None:
    stream, clock = io.StringIO(), FakeClock()
    bar = Progress(0, stream=stream, enabled=True, clock=clock, unit="replications")
    clock.now += 1.0
    bar.update(1_000_000)
    clock.now += 1.0
    bar.done = 0
    bar.update(1)
    first, second = stream.getvalue().split("\r")[1:]
    assert len(second) == len(first)  # padded with spaces
    assert second.rstrip() == "1 replications  0.5 replications/s  0:02"


def test_without_total_shows_count_rate_and_elapsed() -> None:
    stream, clock = io.StringIO(), FakeClock()
    bar = Progress(0, stream=stream, enabled=True, clock=clock)
    clock.now += 4.0
    bar.update(2)
    assert frames(stream) == ["2 cases  0.5 cases/s  0:04"]


def test_unknown_rate_gives_no_eta() -> None:
    clock = FakeClock()
    bar = Progress(10, stream=io.StringIO(), enabled=True, clock=clock)
    assert bar.line(clock.now).endswith("0/10 cases  0.0 cases/s  ETA ?")


def test_disabled_writes_nothing() -> None:
    stream = io.StringIO()
    bar = Progress(10, stream=stream, enabled=False)
    bar.update(3)
    bar.close()
    assert stream.getvalue() == "" and bar.done == 3


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_enabled_defaults_to_whether_the_stream_is_a_terminal() -> None:
    assert Progress(1, stream=io.StringIO()).enabled is False
    assert Progress(1, stream=Terminal()).enabled is True


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0:00"), (7.4, "0:07"), (725, "12:05"), (3723, "1:02:03")]
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
