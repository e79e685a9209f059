"""How many torch threads a fit uses: never more than its process's share of the cores.

The rule, applied while a network trains (:meth:`vaeaug.estimators.TorchEstimator.fit`)
and while an augmenter fits and generates: torch runs on

``min(torch.get_num_threads(), max(1, joblib.cpu_count() // tasks))``

threads in the thread doing the work, where ``tasks`` is the number of tasks
the process runs at once: the threads of the Dask worker running the fit, or
1 elsewhere. The count is set back when the block ends.

- ``torch.get_num_threads()`` is the process's own limit, and so the way to
  lower the count anywhere: ``OMP_NUM_THREADS``, or
  :func:`torch.set_num_threads`. joblib's loky workers start with
  ``cpu_count() // n_jobs`` (``joblib.parallel_config(inner_max_num_threads=k)``
  changes it); Dask's nanny starts its workers with ``OMP_NUM_THREADS=1``
  and ``MKL_NUM_THREADS=1`` unless the environment of ``dask worker`` sets
  other values.
- The share ``cpu_count() // tasks`` stops a Dask worker whose process sets no
  limit (``--no-nanny``, or a ``LocalCluster(processes=False)``) from running
  each of its concurrent fits on every core.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

import joblib
import torch


@contextlib.contextmanager
def worker_threads() -> Iterator[int]:
    """Run the block with this worker's share of torch threads; yield the count.

    See the module's docstring for the rule. torch's count is set in the
    calling thread and set back to what it was when the block ends.
    """
    before = torch.get_num_threads()
    threads = min(before, max(1, joblib.cpu_count() // _concurrent_tasks()))
    if threads == before:
        yield threads
        return
    torch.set_num_threads(threads)
    try:
        yield threads
    finally:
        torch.set_num_threads(before)


def _concurrent_tasks() -> int:
    """Tasks this process runs at once: the threads of the Dask worker running us, else 1."""
    if "distributed" not in sys.modules:  # no Dask worker without it; do not import it
        return 1
    from distributed import get_worker

    try:
        return get_worker().state.nthreads
    except ValueError:  # not in a Dask worker's task
        return 1
