"""Progress of a long run: a rich bar on a terminal, periodic log lines elsewhere.

On a terminal (stderr is a TTY, or asked for) a bar per task shows done/total,
documents per second and the time left. Under a scheduler or with output to a file
there is no bar: every ``every_items`` inputs or ``every_seconds`` seconds one log
line (logger ``pipeline.progress``) says how far the run is, its rate and ETA, so an
Airflow task log shows a long replay moving. ``off`` shows nothing.

Used by the crawler (listing pages, article pages) and by the commands that run the
ingest path (ingest, replay, reindex), which wrap their input stream in ``track``.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from typing import Iterable, Iterator, TypeVar

log = logging.getLogger("pipeline.progress")
T = TypeVar("T")

EVERY_ITEMS = 1000
EVERY_SECONDS = 30.0


@dataclass
class _Task:
    description: str
    total: int | None
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    logged_at: float = field(default_factory=time.monotonic)
    logged_done: int = 0

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.done / elapsed
        text = f"{self.description}: {self.done}" + (f"/{self.total}" if self.total else "") + f", {rate:.1f}/s"
        if self.total and rate > 0:
            text += f", ETA {max(self.total - self.done, 0) / rate:.0f}s"
        return text


class Progress:
    """``add_task`` / ``advance`` / ``track``, shown as a bar, as log lines, or not at all."""

    def __init__(self, mode: str = "auto", *, every_items: int = EVERY_ITEMS, every_seconds: float = EVERY_SECONDS):
        if mode == "auto":
            mode = "bar" if sys.stderr.isatty() else "log"
        self.mode = mode
        self.every_items, self.every_seconds = every_items, every_seconds
        self._tasks: list[_Task] = []
        self._bar = None

    @classmethod
    def wanted(cls, flag: bool | None, **kw) -> "Progress":
        """``--progress`` (bar), ``--no-progress`` (log lines), unset (bar on a terminal, else log lines)."""
        return cls("auto" if flag is None else "bar" if flag else "log", **kw)

    def __enter__(self) -> "Progress":
        if self.mode == "bar":
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, SpinnerColumn, TaskProgressColumn,
                                       TextColumn, TimeElapsedColumn, TimeRemainingColumn)

            self._bar = Bar(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TaskProgressColumn(), TextColumn("{task.fields[rate]}"),
                            TimeElapsedColumn(), TimeRemainingColumn(), console=Console(stderr=True))
            self._bar.__enter__()
        return self

    def __exit__(self, *exc) -> bool:
        if self._bar is not None:
            self._bar.__exit__(*exc)
        elif self.mode == "log":
            for task in self._tasks:
                if task.done != task.logged_done:
                    log.info("%s (done)", task.line())
        return False

    def add_task(self, description: str, total: int | None = None) -> int:
        self._tasks.append(_Task(description, total))
        if self._bar is not None:
            return self._bar.add_task(description, total=total, rate="")
        return len(self._tasks) - 1

    def advance(self, task_id: int, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.advance(task_id, n)
            task = self._bar.tasks[task_id]
            self._bar.update(task_id, rate=f"{task.speed or 0:.1f}/s")
            return
        task = self._tasks[task_id]
        task.done += n
        now = time.monotonic()
        if self.mode == "log" and (task.done - task.logged_done >= self.every_items
                                   or now - task.logged_at >= self.every_seconds):
            task.logged_at, task.logged_done = now, task.done
            log.info("%s", task.line())

    def track(self, items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
        """The items, one step of progress each."""
        task = self.add_task(description, total)
        for item in items:
            yield item
            self.advance(task)
