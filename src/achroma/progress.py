"""Progress of long steps (`achroma check`, `achroma copy`): none, or a one-line bar."""

from __future__ import annotations

import time
from typing import TextIO


class Progress:
    """Progress of long steps; this one shows nothing."""

    def start(self, label: str, total: int | None = None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def done(self) -> None:
        pass


class ProgressBar(Progress):
    """A one-line bar on `stream`, redrawn at most every `interval` seconds and erased when
    the step ends. Steps of known size show once they have run `delay` seconds; with `rate`,
    the bar also shows items per second and, for a known size, the time left."""

    def __init__(
        self,
        stream: TextIO,
        *,
        delay: float = 0.0,
        interval: float = 0.1,
        width: int = 30,
        rate: bool = False,
    ) -> None:
        self.stream = stream
        self.delay, self.interval, self.width, self.rate = delay, interval, width, rate
        self._label, self._count = "", 0
        self._total: int | None = None
        self._started = self._drawn_at = 0.0
        self._shown = 0  # characters on the line now

    def start(self, label: str, total: int | None = None) -> None:
        self.done()
        self._label, self._total, self._count = label, total, 0
        self._started, self._drawn_at = time.monotonic(), 0.0
        self._draw()

    def advance(self, n: int = 1) -> None:
        self._count += n
        self._draw()

    def done(self) -> None:
        if self._shown:
            self.stream.write("\r" + " " * self._shown + "\r")
            self.stream.flush()
            self._shown = 0

    def _draw(self) -> None:
        now = time.monotonic()
        if self._total is not None and now - self._started < self.delay:
            return  # a step of known size shows only once it lasts (one of unknown size at once)
        finished = self._total is not None and self._count >= self._total
        if self._shown and now - self._drawn_at < self.interval and not finished:
            return
        self._drawn_at = now
        if self._total:
            share = min(1.0, self._count / self._total)
            filled = int(share * self.width)
            bar = "#" * filled + "." * (self.width - filled)
            line = f"{self._label} [{bar}] {self._count}/{self._total} {share:4.0%}"
        else:
            line = f"{self._label} ... {self._count or ''}".rstrip()
        if self.rate:
            line += self._speed(now - self._started)
        self.stream.write("\r" + line.ljust(self._shown))
        self.stream.flush()
        self._shown = max(self._shown, len(line))

    def _speed(self, elapsed: float) -> str:
        if elapsed <= 0 or not self._count:
            return ""
        per_sec = self._count / elapsed
        text = f" {per_sec:,.0f}/s"
        if self._total and per_sec > 0:
            left = int(max(0, self._total - self._count) / per_sec)
            text += f" ETA {left // 3600}:{left // 60 % 60:02d}:{left % 60:02d}"
        return text
