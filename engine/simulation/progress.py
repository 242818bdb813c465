"""A small text progress bar for long simulation runs.

``Progress(total)`` draws on stderr when it is a terminal; :meth:`Progress.update` is cheap
(it redraws at most ``1 / interval`` times a second), :meth:`Progress.close` draws the final
state and ends the line. The clock is the wall clock (``time.monotonic``), for display only:
simulation time never comes from here.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

WIDTH = 24
"""Characters of the bar itself."""


def format_duration(seconds: float) -> str:
    """``0:07``, ``12:05``, ``1:02:03`` (hours appear when needed)."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Progress of ``total`` units of work (cases by default).

    ``enabled`` defaults to ``stream.isatty()``; a disabled bar writes nothing. ``clock`` is
    injectable for tests. Usable as a context manager (closes on exit).
    """

    def __init__(
        self,
        total: int,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
        unit: str = "cases",
        interval: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = max(0, int(total))
        self.stream: TextIO = sys.stderr if stream is None else stream
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty()) if callable(isatty) else False
        self.enabled = enabled
        self.unit = unit
        self.interval = interval
        self.done = 0
        self._clock = clock
        self._began = clock()
        self._last_draw: float | None = None
        self._width = 0
        self._closed = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        """``n`` more units done; redraws when the last drawing is ``interval`` old."""
        self.done += n
        if not self.enabled or self._closed:
            return
        now = self._clock()
        if self._last_draw is None or now - self._last_draw >= self.interval:
            self._draw(now)

    def close(self) -> None:
        """Draw the final state and end the line (once; nothing when disabled)."""
        if self._closed:
            return
        self._closed = True
        if self.enabled:
            self._draw(self._clock())
            self.stream.write("\n")
            self.stream.flush()

    def line(self, now: float) -> str:
        """The text of the bar at wall time ``now``."""
        elapsed = now - self._began
        rate = self.done / elapsed if elapsed > 0 else 0.0
        speed = f"{rate:,.0f} {self.unit}/s" if rate >= 10 else f"{rate:.1f} {self.unit}/s"
        if self.total <= 0:
            return f"{self.done:,} {self.unit}  {speed}  {format_duration(elapsed)}"
        fraction = min(1.0, self.done / self.total)
        filled = int(fraction * WIDTH)
        bar = "#" * filled + "-" * (WIDTH - filled)
        if self.done >= self.total:
            eta = f"done in {format_duration(elapsed)}"
        elif rate > 0:
            eta = f"ETA {format_duration((self.total - self.done) / rate)}"
        else:
            eta = "ETA ?"
        return (
            f"{fraction * 100:3.0f}% [{bar}] {self.done:,}/{self.total:,} {self.unit}"
            f"  {speed}  {eta}"
        )

    def _draw(self, now: float) -> None:
        text = self.line(now)
        padding = " " * max(0, self._width - len(text))
        self.stream.write(f"\r{text}{padding}")
        self.stream.flush()
        self._width = len(text)
        self._last_draw = now
