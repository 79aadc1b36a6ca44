"""Working through a large file chunk by chunk: chunks scored by forked processes while the
job's worker reads the file, results committed in file order on a writer thread.

    with ChunkPipeline(score=score_chunk, commit=commit_chunk, processes=2) as pipeline:
        for index, chunk in enumerate(chunks):
            pipeline.submit(chunk, index)
        pipeline.flush()   # every chunk scored, the last commit under way
        ...                # work that may overlap the last commit
        pipeline.wait()    # the last commit done

`score(chunk, index)` must not use the database (it may run in another process) and returns
what `commit(result)` stores; `commit` runs on the writer thread, in submission order, one
at a time. Chunks committed in order keep a job's resume point contiguous.

A test can make a chunk fail where it is scored through `fault_hook` (see `inject_fault`).
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from django.db import connection

from .lifecycle import ProcessDied

Score = Callable[[Any, int], Any]
Commit = Callable[[Any], None]

# Called with each chunk's index just before it is scored, in the process that scores it:
# the explicit fault-injection point of the pipeline (tests only; None in production).
fault_hook: Callable[[int], None] | None = None


@contextlib.contextmanager
def inject_fault(hook: Callable[[int], None]) -> Iterator[None]:
    """Call `hook(chunk_index)` before each chunk is scored while the block runs. Set before
    the pipeline forks its processes, so they inherit it."""
    global fault_hook
    previous, fault_hook = fault_hook, hook
    try:
        yield
    finally:
        fault_hook = previous


def _score(score: Score, chunk: Any, index: int) -> Any:
    if fault_hook is not None:
        fault_hook(index)
    return score(chunk, index)


class ChunkPipeline:
    """Scores submitted chunks with `processes` forked processes (in the caller's thread when
    1) and commits their results in order on a writer thread."""

    def __init__(self, *, score: Score, commit: Commit, processes: int):
        self.commit = commit
        # The scorers are forked before the writer starts its thread (a fork copies one thread).
        self.scorers = _Scorers(score, processes)
        self.writer = _Writer()
        self.in_flight: deque[Future] = deque()

    def __enter__(self) -> ChunkPipeline:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.writer.close(failing=exc_type is not None)
        finally:
            self.scorers.close(failing=exc_type is not None)

    def submit(self, chunk: Any, index: int) -> None:
        self.in_flight.append(self.scorers.submit(chunk, index))
        while len(self.in_flight) > self.scorers.ahead:
            self._commit_oldest()

    def flush(self) -> None:
        """Every submitted chunk scored and handed to the writer (the last may still be
        committing)."""
        while self.in_flight:
            self._commit_oldest()

    def wait(self) -> None:
        """The last commit is done; its error, if any, is raised here."""
        self.writer.wait()

    def _commit_oldest(self) -> None:
        with _scorer_deaths():
            result = self.in_flight.popleft().result()
        self.writer.commit(self.commit, result)


@contextlib.contextmanager
def _scorer_deaths() -> Iterator[None]:
    try:
        yield
    except BrokenProcessPool as error:
        raise ProcessDied(
            "A scoring process stopped unexpectedly (killed, or out of memory); the job can "
            "be submitted again."
        ) from error


class _Writer:
    """Commits on a thread of its own while the next chunk is scored.

    Storing a chunk is mostly the database's work (parsing, indexes, foreign-key checks at
    commit), so it overlaps with scoring the next chunk on another core. At most one commit
    is in flight: `commit` first waits for the previous one and raises its error, if any, so
    a failed chunk stops the job before the next is queued.

    Inside an enclosing transaction (a caller's `atomic`, the test suite's) the commits run
    on the caller's thread instead: a second connection could not see that transaction's rows.
    """

    def __init__(self):
        self.threaded = not connection.in_atomic_block
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chunk-writer")
        self.pending: Future | None = None

    def commit(self, commit: Commit, result: Any) -> None:
        self.wait()
        if self.threaded:
            self.pending = self.pool.submit(commit, result)
        else:
            commit(result)

    def wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def close(self, *, failing: bool) -> None:
        try:
            if not failing:
                self.wait()
            elif self.pending is not None:  # already failing: let the commit end, keep exc
                with contextlib.suppress(Exception):
                    self.pending.result()
        finally:
            if self.threaded:
                # The writer thread's own connection (looked up on that thread).
                self.pool.submit(lambda: connection.close()).result()
            self.pool.shutdown(wait=True)


class _Scorers:
    """Scores chunks in `processes` forked processes, or in the caller's thread when 1.

    One Python thread scores on one core at a time (the GIL): processes keep every core busy
    while the worker reads the file and commits. They are forked when the job starts, so
    they have the job's loaded model without pickling it; a chunk goes to them pickled and
    its result comes back pickled. They never use the database (the worker's connection is
    only a copied socket in them), and each exits by itself once the worker is gone, SIGKILL
    included, so a killed worker leaves no scorer behind. Results are taken in the order
    they were submitted, so chunks still commit in order.
    """

    def __init__(self, score: Score, processes: int):
        self.score = score
        self.pool: ProcessPoolExecutor | None = None
        self.children: list[multiprocessing.Process] = []
        if processes > 1:
            before = {child.pid for child in multiprocessing.active_children()}
            self.pool = ProcessPoolExecutor(
                max_workers=processes,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_scorer_start,
                initargs=(score, os.getpid()),
            )
            # Objects alive now are frozen out of the garbage collector while the processes
            # are forked: the scorers' collections then never write to them, so their memory
            # pages stay shared with the worker instead of being copied (Python's gc docs).
            gc.freeze()
            try:
                with _children_allowed():
                    self.pool.submit(os.getpid).result()  # forks all the processes
                self.children = [
                    child for child in multiprocessing.active_children() if child.pid not in before
                ]
            except BaseException:
                self.pool.shutdown(wait=True, cancel_futures=True)
                raise
            finally:
                gc.unfreeze()
        # Chunks submitted before the oldest must be committed: one per process and one
        # more, so that a process that finishes a chunk has the next one waiting.
        self.ahead = processes + 1 if self.pool else 0

    def submit(self, chunk: Any, index: int) -> Future:
        if self.pool is not None:
            with _scorer_deaths():
                return self.pool.submit(_score_in_scorer, chunk, index)
        done: Future = Future()
        done.set_result(_score(self.score, chunk, index))
        return done

    def close(self, *, failing: bool = False) -> None:
        if self.pool is None:
            return
        if failing:
            # Their results are no longer wanted, and a scorer may be blocked writing one to
            # a pipe nobody reads while ignoring the SIGTERM the pool would stop it with.
            for child in self.children:
                if child.is_alive():
                    child.kill()
        self.pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _children_allowed():
    """Let this process fork scoring processes even as a Celery prefork pool process.

    Celery's pool marks its processes daemonic, and multiprocessing refuses to start
    children from a daemonic process, since they would outlive it when it is terminated.
    Scoring processes exit by themselves as soon as their parent is gone (_exit_without).
    """
    process = multiprocessing.current_process()
    daemon = process.daemon
    process.daemon = False
    try:
        yield
    finally:
        process.daemon = daemon


_scorer_score: Score | None = None  # set in a scoring process by _scorer_start


def _scorer_start(score: Score, worker_pid: int) -> None:
    """First thing in a scoring process: keep the job's scoring function; leave the worker's
    signal handlers (Celery's) behind; exit when the worker is gone.

    Ctrl-C and SIGTERM reach a whole process group (a terminal, systemd stopping the
    service): the worker then finishes its job (a warm shutdown) and its scorers must
    finish with it, so they ignore both, and go when the pool is shut down or the worker
    dies."""
    global _scorer_score
    _scorer_score = score
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)
    for signum in (signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1):
        signal.signal(signum, signal.SIG_DFL)
    threading.Thread(target=_exit_without, args=(worker_pid,), daemon=True).start()


def _exit_without(worker_pid: int) -> None:
    while os.getppid() == worker_pid:  # a dead parent's children are adopted by another
        time.sleep(0.5)
    os._exit(1)


def _score_in_scorer(chunk: Any, index: int) -> Any:
    return _score(_scorer_score, chunk, index)
