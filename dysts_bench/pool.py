"""One executor interface: run a function over items, locally or on Dask, results as
they complete.

:func:`open_pool` picks the backend; every backend has the same two methods:

``imap_unordered(fn, calls, return_exceptions=False)``
    ``calls`` holds ``(key, args)`` pairs; yields ``(key, fn(*args))`` as the calls finish.
    Only ``args`` travel to the workers (the key stays here). A call's exception is raised
    from the generator, or yielded in place of the result with ``return_exceptions``.
``close(kill=False)``
    Release the workers; ``kill=True`` (an interrupted batch) drops what has not started.

Backends: :class:`SerialPool` (in this process), :class:`ProcessPool` (a local
``forkserver`` process pool) and :class:`DaskPool` (a Dask scheduler address,
``"local"`` for a ``LocalCluster``, a ``Client`` or a cluster object). The dataset
generator and the corpus use them as they are; the runner drives its worker hosts
through :class:`DaskPool` on Dask and through threads of its own locally (a host's
death signal is tied to the thread that started it; see ``runner/executors.py``).

A shared leaf utility: it imports nothing from the package.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, as_completed

__all__ = ["open_pool", "SerialPool", "ProcessPool", "DaskPool"]


class SerialPool:
    """Calls in this process, one after the other."""

    def imap_unordered(self, fn, calls, return_exceptions=False):
        for key, args in calls:
            try:
                result = fn(*args)
            except Exception as exc:  # noqa: BLE001 - handed to the caller
                if not return_exceptions:
                    raise
                result = exc
            yield key, result

    def close(self, kill=False):
        pass


class ProcessPool:
    """A local process pool. ``forkserver``: workers fork from a clean server that imported
    ``preload`` once (fast start-up, and never a fork of a process whose numba threads
    run)."""

    def __init__(self, workers: int, preload=()):
        import multiprocessing as mp
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(list(preload))
        self.executor = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)

    def imap_unordered(self, fn, calls, return_exceptions=False):
        futures = {self.executor.submit(fn, *args): key for key, args in calls}
        for fut in as_completed(futures):
            yield futures[fut], _outcome(fut, return_exceptions)

    def close(self, kill=False):
        # kill: Ctrl-C or a crashed worker: drop the queue, keep what is done
        self.executor.shutdown(wait=not kill, cancel_futures=kill)


class DaskPool:
    """Calls as Dask tasks (``pure=False``: every call runs)."""

    def __init__(self, scheduler, workers: int = 1):
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ImportError("running on Dask needs `pip install dask distributed`") from exc
        self.cluster = None
        self.own_client = True
        if isinstance(scheduler, Client):
            self.client, self.own_client = scheduler, False
        elif scheduler in ("local", "dask", True):
            import logging
            self.cluster = LocalCluster(n_workers=max(1, int(workers)), threads_per_worker=1, processes=True,
                                        dashboard_address=None, silence_logs=logging.ERROR)
            self.client = Client(self.cluster)
        else:
            self.client = Client(scheduler)  # an address (tcp://host:port) or a cluster object
        self.futures = []

    def submit(self, fn, *args):
        """One call; its future (``result()``)."""
        return self.client.submit(fn, *args, pure=False)

    def imap_unordered(self, fn, calls, return_exceptions=False):
        from distributed import as_completed as dask_completed
        futures = {self.client.submit(fn, *args, pure=False): key for key, args in calls}
        self.futures = list(futures)
        for fut in dask_completed(self.futures):
            yield futures[fut], _outcome(fut, return_exceptions)

    def run_on_workers(self, fn, *args):
        """``fn(*args)`` once on every worker (``Client.run``)."""
        return self.client.run(fn, *args)

    def close(self, kill=False):
        if kill and self.futures:
            self.client.cancel(self.futures)
        self.futures = []
        if self.own_client:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def open_pool(workers: int = 1, scheduler=None, preload=()):
    """The backend for ``scheduler`` (Dask when given) or ``workers`` (a process pool when
    more than one, else in this process)."""
    if scheduler is not None:
        return DaskPool(scheduler, workers)
    if int(workers) > 1:
        return ProcessPool(int(workers), preload)
    return SerialPool()


def _outcome(future, return_exceptions):
    """A finished future's result, or its exception when the caller asked for them."""
    try:
        return future.result()
    except Exception as exc:  # noqa: BLE001 - handed to the caller
        if not return_exceptions:
            raise
        return exc
