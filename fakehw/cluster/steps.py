"""Ordered, logged steps: how both the binary build and cluster creation run.

Like kind's `create/actions`, each step is small and named, so a person watching sees which
one is running and for how long, and a failure names the step it happened in. Steps run in
order; the first failure stops the run and is re-raised after being reported.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    """One named unit of work."""

    title: str
    run: Callable[[], None]


@dataclass(frozen=True)
class StepResult:
    """How long a finished step took."""

    title: str
    seconds: float


# The progress display of the steps running now: a step that runs steps of its own (`up`
# building binaries) adds them to it, since a console shows one live display at a time.
_ACTIVE: ContextVar[Progress | None] = ContextVar("fakehw_steps_progress", default=None)


@contextlib.contextmanager
def _progress(console: Console) -> Iterator[Progress]:
    active = _ACTIVE.get()
    if active is not None:
        yield active
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        token = _ACTIVE.set(progress)
        try:
            yield progress
        finally:
            _ACTIVE.reset(token)


def run_steps(steps: Sequence[Step], console: Console) -> list[StepResult]:
    """Run `steps` in order with a spinner and elapsed time; report each as it ends."""
    results: list[StepResult] = []
    with _progress(console) as progress:
        console = progress.console
        for step in steps:
            task = progress.add_task(step.title, total=None)
            log.info("step started: %s", step.title)
            start = time.monotonic()
            try:
                step.run()
            except BaseException:
                seconds = time.monotonic() - start
                progress.remove_task(task)
                console.print(f"[red]✗[/] {step.title} [dim]({seconds:.1f}s)[/]")
                log.info("step failed: %s after %.1fs", step.title, seconds)
                raise
            seconds = time.monotonic() - start
            progress.remove_task(task)
            console.print(f"[green]✓[/] {step.title} [dim]({seconds:.1f}s)[/]")
            log.info("step done: %s in %.1fs", step.title, seconds)
            results.append(StepResult(step.title, seconds))
    return results
