"""Per-clip work in worker processes: each worker builds its tools once, a progress bar counts clips."""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Callable, Iterable, Iterator

from tqdm import tqdm

_state: dict[str, Any] = {}


def worker_state() -> dict[str, Any]:
    """What this process's initializer built (a face detector, a flow object...)."""
    return _state


def _init(setup: Callable[..., dict[str, Any]] | None, args: tuple) -> None:
    _state.clear()
    if setup is not None:
        _state.update(setup(*args))


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def map_clips(work: Callable[[Any], Any], jobs: Iterable[Any], setup: Callable[..., dict[str, Any]] | None = None,
              setup_args: tuple = (), workers: int = 0, desc: str = "clips", progress: bool = True) -> Iterator[Any]:
    """Run `work(job)` for every job, yielding the results in job order.

    Memory holds one clip per worker: jobs are small records and workers write their own
    outputs. Workers are forked before `setup` runs, so heavy imports (TensorFlow for
    MTCNN) happen in each worker, never in the parent.
    """
    jobs = list(jobs)
    workers = min(workers or cores(), max(len(jobs), 1))
    bar = tqdm(total=len(jobs), desc=desc, unit="clip", disable=not progress)
    try:
        if workers == 1:
            _init(setup, setup_args)
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


def split(results: list[dict]) -> tuple[list[dict], list[dict], dict[str, int]]:
    """(done, skipped, skips per reason) of per-clip results; a skip carries a `reason`."""
    done = [r for r in results if "reason" not in r]
    skipped = sorted((r for r in results if "reason" in r), key=lambda r: r["clip_id"])
    return done, skipped, dict(Counter(r["reason"] for r in skipped))
