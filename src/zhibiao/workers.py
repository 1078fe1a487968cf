"""Model worker processes for the batch runner: the ``--workers`` policy and a pool of spawned
processes, each holding its own extractor (loaded there from a loader callable, or copied)."""
from __future__ import annotations

import os
from typing import Any, Callable

from .errors import ZhibiaoError

__all__ = ["MAX_AUTO_WORKERS", "ExtractorPool", "is_loader", "resolve_workers"]

MAX_AUTO_WORKERS = 8


def resolve_workers(workers: int | str | None, n_batches: int | None = None) -> int:
    """``"auto"``: one worker process per CPU this process may use, at most :data:`MAX_AUTO_WORKERS`
    and at most one per batch when the batch count is known (1: predict in this process)."""
    if workers in (None, "auto"):
        try:
            n = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            n = os.cpu_count() or 1
        n = min(n, MAX_AUTO_WORKERS)
        return max(1, min(n, n_batches) if n_batches is not None else n)
    try:
        n = int(workers)  # type: ignore[arg-type]
    except ValueError:
        n = 0
    if n < 1:
        raise ZhibiaoError(f"--workers must be >= 1 or 'auto', got {workers}")
    return n


def is_loader(extractor: Any) -> bool:
    """A callable that loads an extractor, rather than an extractor (which has ``predict``)."""
    return callable(extractor) and not hasattr(extractor, "predict")


def loaded(extractor: Any) -> Any:
    """The extractor itself, or the one its loader returns."""
    return extractor() if is_loader(extractor) else extractor


# ---- inside a worker process -----------------------------------------------------------------
_WORKER_EXTRACTOR = None
_WORKER_ERROR: BaseException | None = None


def _worker_init(extractor: Any, threads: int) -> None:
    global _WORKER_EXTRACTOR, _WORKER_ERROR
    try:
        import torch

        from .extract import bound_kernel_caches

        bound_kernel_caches()
        torch.set_num_threads(max(1, threads))
        _WORKER_EXTRACTOR = loaded(extractor)
    except Exception as exc:  # noqa: BLE001 - raised again with the first batch (an initializer
        _WORKER_ERROR = exc  # that fails would make the pool start workers forever)


def _worker_call(fn: Callable[..., Any], args: tuple) -> Any:
    if _WORKER_ERROR is not None:
        raise ZhibiaoError(f"worker could not load the model: {type(_WORKER_ERROR).__name__}: {_WORKER_ERROR}")
    return fn(_WORKER_EXTRACTOR, *args)


class ExtractorPool:
    """``workers`` spawned processes (never forked: this process may have started torch threads),
    each with its own extractor and ``threads`` torch threads. Use as a context manager;
    :meth:`submit` runs ``fn(extractor, *args)`` in a worker (``fn`` must be a module-level function)
    and returns its ``AsyncResult``. A worker that could not load the model raises that error
    (as a :class:`ZhibiaoError`) from ``get()``."""

    def __init__(self, extractor: Any, workers: int, threads: int = 1):
        import multiprocessing as mp

        self.workers = workers
        self._pool = mp.get_context("spawn").Pool(workers, initializer=_worker_init, initargs=(extractor, threads))

    def submit(self, fn: Callable[..., Any], *args: Any):
        return self._pool.apply_async(_worker_call, (fn, args))

    def __enter__(self) -> ExtractorPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.terminate()  # as multiprocessing.Pool's own __exit__
