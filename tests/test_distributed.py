"""Grid searches on Dask workers: the sequential result, each worker's threads, a shared cache."""

import os

import joblib
import numpy as np
import pytest
import torch
from conftest import FAST, TorchThreads, fit_threads
from imblearn.pipeline import Pipeline
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.neighbors import KNeighborsClassifier

from vaeaug import VAE, Callback, VAEAugmenter

distributed = pytest.importorskip("distributed")

GRID = {"aug__vae__latent_dim": [2, 4], "aug__method": ["interpolation", "extrapolation"]}


@pytest.fixture(scope="module")
def client():
    """Two worker processes of one thread each, as ``dask worker --nthreads 1`` starts them."""
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _pipeline(memory=None, callbacks=None):
    vae = VAE(**FAST, image_shape=(8, 8), callbacks=callbacks)
    augmenter = VAEAugmenter(vae=vae, memory=memory, random_state=0)
    return Pipeline([("aug", augmenter), ("clf", KNeighborsClassifier())])


def test_a_grid_search_on_dask_workers_gives_the_sequential_result(digits, client):
    X, y = digits
    with joblib.parallel_backend("dask"):
        on_dask = GridSearchCV(_pipeline(), GRID, cv=2, refit=False).fit(X, y)
    # Dask's workers train on one torch thread (below); so does the sequential run,
    # as a different thread count may round differently.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        sequential = GridSearchCV(_pipeline(), GRID, cv=2, refit=False, n_jobs=1).fit(X, y)
    finally:
        torch.set_num_threads(before)
    assert on_dask.best_params_ == sequential.best_params_
    np.testing.assert_array_equal(
        on_dask.cv_results_["mean_test_score"], sequential.cv_results_["mean_test_score"]
    )


def test_dask_workers_train_on_the_threads_their_nanny_gives_them(digits, client):
    X, y = digits
    with joblib.parallel_backend("dask"):
        fitted = cross_validate(
            _pipeline(callbacks=[TorchThreads()]), X, y, cv=2, return_estimator=True
        )["estimator"]
    # The nanny starts workers with OMP_NUM_THREADS=1 and MKL_NUM_THREADS=1 (torch
    # follows both) unless the environment sets them; a fit takes at most the
    # worker's share of the cores (all of them: one task at a time here).
    limit = min(int(os.environ.get(name) or 1) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"))
    expected = min(limit, joblib.cpu_count())
    for pipe in fitted:
        assert {record["torch_threads"] for record in pipe["aug"].vae_.history_} == {expected}


def test_threads_of_one_dask_worker_share_the_cores(digits):
    X, _ = digits
    before = torch.get_num_threads()
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        futures = [client.submit(fit_threads, X, pure=False) for _ in range(2)]
        counts = client.gather(futures)
    # In the client's process, which sets no limit: torch's count, at most cores // 2.
    assert counts == [{min(before, max(1, joblib.cpu_count() // 2))}] * 2
    assert torch.get_num_threads() == before


class LogFit(Callback):
    """Appends a line to ``path`` when a training begins, in whatever process it runs."""

    def __init__(self, path):
        self.path = path

    def on_train_begin(self, module):
        with open(self.path, "a") as log:
            log.write(f"{os.getpid()}\n")


def test_dask_workers_sharing_a_cache_folder_train_each_vae_once(digits, client, tmp_path):
    X, y = digits
    log = tmp_path / "fits.log"
    log.touch()
    pipe = _pipeline(memory=str(tmp_path / "cache"), callbacks=[LogFit(str(log))])
    # One split, two methods: both workers need the same VAE at the same time.
    split = [(np.arange(200), np.arange(200, 300))]
    grid = {"aug__method": ["interpolation", "extrapolation"]}
    with joblib.parallel_backend("dask"):
        search = GridSearchCV(pipe, grid, cv=split, refit=False).fit(X, y)
    assert len(log.read_text().split()) == 1
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
