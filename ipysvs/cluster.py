"""Independent tasks (one per song or file) run here in order, or on a Dask cluster.

The batch commands (``ipysvs separate``, ``evaluate``, ``simulate``) and their Python functions take an
optional ``distributed.Client``: without one every task runs in this process, one after the other, as
it always did; with one the tasks are spread over the cluster's workers -- a local cluster of
single-threaded worker processes (:func:`connect` with ``workers=N``) or an existing one
(``scheduler="tcp://host:8786"``, started with ``dask scheduler`` and ``dask worker``).

Tasks carry paths and options, never audio or weights: each worker reads its song itself, loads the
models once per process (:class:`~ipysvs.dask_worker.WorkerSetup`, which also caps torch's threads)
and returns a small result, which :func:`run_tasks` hands to the caller as it arrives (so a CSV
gains its rows as songs finish). A task whose worker dies is retried on another (Dask reschedules
it; a task that raised gets :data:`TASK_RETRIES` more tries); a task that still fails is reported,
and the others go on.

Dask is the optional extra ``dask`` (``pip install -e ".[dask]"``).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from .errors import IpysvsError, ParameterError

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "LOCAL_WORKER_CONFIG",
    "TASK_RETRIES",
    "Failure",
    "connect",
    "dask_available",
    "require_dask",
    "run_tasks",
]

Item = TypeVar("Item")
Result = TypeVar("Result")
#: extra attempts of a task that raised (a task whose worker died is rescheduled by Dask itself, up to
#: ``distributed.scheduler.allowed-failures`` times)
TASK_RETRIES = 1
#: Dask's nanny puts ``MALLOC_TRIM_THRESHOLD_=65536`` in every worker's environment, to hand freed memory
#: back sooner. Setting it turns off glibc's dynamic mmap threshold, so every array above 128 kB is
#: mapped and unmapped again: separation ran 30-40 % slower in such a process (benchmarks/RESULTS.md,
#: section 9). ipysvs trims its heap itself between phases (:mod:`ipysvs.memory`), so the local
#: cluster's workers start without it (a ``None`` in this Dask setting unsets the variable).
LOCAL_WORKER_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}
DASK_MISSING = 'Dask is not installed: pip install -e ".[dask]" (or pip install "ipysvs[dask]")'


@dataclass(frozen=True)
class Failure:
    """A task that did not give a result: ``name`` of its item and the reason, one line."""

    name: str
    reason: str


def dask_available() -> bool:
    """Whether ``distributed`` can be imported."""
    return importlib.util.find_spec("distributed") is not None


def require_dask() -> None:
    """Raise a clear :class:`ParameterError` when Dask's distributed scheduler is not installed."""
    if not dask_available():
        raise ParameterError(DASK_MISSING)


@contextmanager
def connect(
    workers: int | None = None,
    scheduler: str | None = None,
    *,
    threads: int = 1,
    timeout_s: float = 10.0,
) -> Iterator[Client | None]:
    """A Dask client for the batch commands, or ``None`` to run here in order.

    Args:
        workers: start a local cluster of this many worker processes (closed on exit).
        scheduler: connect to the running scheduler at this address instead (``tcp://host:8786``).
        threads: torch threads (and Dask task slots) per worker process.
        timeout_s: how long to try to reach ``scheduler``.

    Yields:
        The client (with :class:`~ipysvs.dask_worker.WorkerSetup` on every worker), or ``None`` when neither
        ``workers`` nor ``scheduler`` is given.

    Raises:
        ParameterError: both given, ``workers < 1``, Dask not installed, or no scheduler at the address.
    """
    if workers is None and scheduler is None:
        yield None
        return
    if workers is not None and scheduler is not None:
        raise ParameterError("give --workers (a local cluster) or --scheduler (an existing one), not both")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ParameterError(f"workers must be a whole number of at least 1, got {workers!r:.40}")
    require_dask()
    import dask
    from distributed import Client, LocalCluster

    from .dask_worker import WorkerSetup

    if workers is not None:
        with dask.config.set(LOCAL_WORKER_CONFIG):
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=threads, processes=True, dashboard_address=":0"
            )
        try:
            with Client(cluster) as client:
                client.register_plugin(WorkerSetup(threads))
                yield client
        finally:
            cluster.close()
        return
    try:
        client = Client(scheduler, timeout=f"{timeout_s}s")
    except (OSError, TimeoutError, ValueError) as error:
        raise ParameterError(f"cannot reach the Dask scheduler at {scheduler!r:.80}: {error}") from None
    with client:
        client.register_plugin(WorkerSetup(threads))
        yield client


def run_tasks(
    function: Callable[[Item], Result],
    items: Sequence[Item],
    *,
    client: Client | None,
    on_result: Callable[[Item, Result], None],
    on_failure: Callable[[Failure], None],
    name: Callable[[Item], str] = str,
    progress: bool = True,
    desc: str = "tasks",
    unit: str = "task",
) -> None:
    """Run ``function`` on every item, handing each result to ``on_result`` as it arrives.

    Without a client the items run here in their order (an :class:`~ipysvs.errors.IpysvsError`
    becomes a :class:`Failure`, any other error propagates, as in a plain loop). With a client they
    are submitted at once (``function`` and the items must pickle: paths and options, not audio)
    and arrive in the order they finish; a task that raised or whose worker died more often than
    Dask allows becomes a :class:`Failure`; ``on_result`` runs here, in the caller's process. One
    progress bar (tqdm, on stderr) counts all tasks.

    Raises:
        ParameterError: ``client`` is neither ``None`` nor a ``distributed.Client``.
    """
    from tqdm.auto import tqdm

    with tqdm(total=len(items), desc=desc, unit=unit, disable=not progress) as bar:
        if client is None:
            for item in items:
                try:
                    result = function(item)
                except IpysvsError as error:
                    on_failure(Failure(name(item), str(error)))
                else:
                    on_result(item, result)
                bar.update(1)
            return
        from distributed import Client, as_completed

        if not isinstance(client, Client):
            raise ParameterError(f"client must be a distributed.Client or None, got {type(client).__name__}")
        futures = client.map(function, list(items), pure=False, retries=TASK_RETRIES)
        pending: dict[Any, Item] = dict(zip(futures, items, strict=True))
        for future in as_completed(futures):
            item = pending.pop(future)
            try:
                result = future.result()
            except IpysvsError as error:
                on_failure(Failure(name(item), str(error)))
            except Exception as error:
                on_failure(Failure(name(item), f"{type(error).__name__}: {error}"))
            else:
                on_result(item, result)
            finally:
                future.release()
            bar.update(1)
