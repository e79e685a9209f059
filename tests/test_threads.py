"""The torch threads a fit runs on: the process's own count, at most its share of the cores."""

import os

import joblib
import torch
from conftest import fit_threads


def test_a_fit_keeps_the_processes_count_and_a_lower_one_set_by_the_user(digits):
    X, _ = digits
    before = torch.get_num_threads()
    assert fit_threads(X) == {before}
    torch.set_num_threads(1)  # as OMP_NUM_THREADS=1 would
    try:
        assert fit_threads(X) == {1}
    finally:
        torch.set_num_threads(before)
    assert torch.get_num_threads() == before


def test_loky_workers_fit_on_their_share_of_the_cores(digits):
    X, _ = digits
    counts = joblib.Parallel(n_jobs=2)(joblib.delayed(fit_threads)(X) for _ in range(2))
    # loky starts its workers with OMP_NUM_THREADS=cpu_count() // n_jobs, unless it is set
    share = int(os.environ.get("OMP_NUM_THREADS") or max(1, joblib.cpu_count() // 2))
    assert counts == [{share}] * 2
