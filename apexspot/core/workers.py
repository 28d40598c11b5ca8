"""Per-clip work in worker processes: each worker builds its tools once, a progress bar counts clips."""

from __future__ import annotations

import ctypes
import os
import signal
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterable, Iterator

from apexspot.core.console import progress

_state: dict[str, Any] = {}


def worker_state() -> dict[str, Any]:
    """What this process's initializer built (a face detector, a flow object...)."""
    return _state


def _die_with_parent() -> None:
    """Ask Linux to end this worker when the stage process dies, even by SIGKILL: a killed
    stage then leaves no orphaned workers holding a detector and a core each."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: workers end when their queue closes
        pass


def _init(setup: Callable[..., dict[str, Any]] | None, args: tuple, worker: bool = True) -> None:
    if worker:
        _die_with_parent()
    _state.clear()
    if setup is not None:
        _state.update(setup(*args))


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def map_clips(work: Callable[[Any], Any], jobs: Iterable[Any], setup: Callable[..., dict[str, Any]] | None = None,
              setup_args: tuple = (), workers: int = 0, desc: str = "clips", show_progress: bool = True) -> Iterator[Any]:
    """Run `work(job)` for every job, yielding the results in job order.

    Memory holds one clip per worker: jobs are small records and workers write their own
    outputs. Workers are forked before `setup` runs, so heavy imports (TensorFlow for
    MTCNN) happen in each worker, never in the parent.
    """
    jobs = list(jobs)
    workers = min(workers or cores(), max(len(jobs), 1))
    bar = progress(total=len(jobs), desc=desc, unit="clip", disable=not show_progress)
    try:
        if workers == 1:
            _init(setup, setup_args, worker=False)
            for job in jobs:
                yield work(job)
                bar.update()
            return
        with ProcessPoolExecutor(workers, initializer=_init,
                                 initargs=(setup, setup_args)) as pool:
            for result in pool.map(work, jobs):
                yield result
                bar.update()
    finally:
        bar.close()
