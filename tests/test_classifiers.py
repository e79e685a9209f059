import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

from vaeaug import TorchMLPClassifier
from vaeaug.engine.networks import GeneratorDropout, build_mlp


def test_the_papers_architecture():
    module = build_mlp(784, 10, hidden_units=1024, n_layers=5, dropout=0.2)
    linear = [m for m in module if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linear] == [(784, 1024)] + [
        (1024, 1024)
    ] * 4 + [(1024, 10)]
    assert sum(isinstance(m, nn.BatchNorm1d) for m in module) == 5
    assert sum(isinstance(m, nn.Dropout) for m in module) == 5


def test_learns_digits_with_string_labels_and_is_reproducible():
    X, y = load_digits(return_X_y=True)
    labels = np.array(list("abcdefghij"))[y]
    params = dict(hidden_units=64, n_layers=2, max_epochs=30, random_state=0)
    clf = TorchMLPClassifier(**params).fit(X[:1000], labels[:1000])
    assert clf.score(X[1000:], labels[1000:]) > 0.9
    assert set(clf.predict(X[1000:1010])) <= set(clf.classes_)
    np.testing.assert_allclose(clf.predict_proba(X[1000:]).sum(axis=1), 1.0, rtol=1e-6)
    again = TorchMLPClassifier(**params).fit(X[:1000], labels[:1000])
    np.testing.assert_array_equal(clf.predict_proba(X[1000:]), again.predict_proba(X[1000:]))


def test_one_class_is_refused():
    with pytest.raises(ValueError, match="at least 2 classes"):
        TorchMLPClassifier(max_epochs=1).fit(np.ones((4, 2)), [1, 1, 1, 1])


@pytest.mark.parametrize(
    "params, n_samples, match, remedy",
    [
        (
            dict(batch_size=1),
            20,
            r"^batch_size=1: TorchMLPClassifier normalises each training batch "
            r"\(batch normalisation after each hidden layer\), which needs at least 2 samples "
            r"per batch; use batch_size=2 or more\.$",
            dict(batch_size=2),
        ),
        (
            dict(),
            2,
            r"^TorchMLPClassifier needs at least 2 training samples for the batch "
            r"normalisation after each hidden layer; X has 2, of which "
            r"validation_fraction=0\.1 holds 1 out\. Pass more samples, or "
            r"validation_fraction=0\.$",
            dict(validation_fraction=0),
        ),
    ],
)
def test_batch_normalisation_on_one_sample_is_refused_by_name(params, n_samples, match, remedy):
    # torch's "Expected more than 1 value per channel when training"
    X, y = load_digits(return_X_y=True)
    X, y = X[:n_samples], np.arange(n_samples) % 2
    params = dict(hidden_units=8, n_layers=1, max_epochs=1, **params)
    with pytest.raises(ValueError, match=match):
        TorchMLPClassifier(**params).fit(X, y)
    TorchMLPClassifier(**{**params, **remedy}).fit(X, y)  # what the message says works
    TorchMLPClassifier(**{**params, "n_layers": 0}).fit(X, y)  # no batch normalisation


def test_dropout_draws_its_mask_from_the_generator():
    dropout = GeneratorDropout(0.25)
    x = torch.ones(100, 400)
    state = torch.random.get_rng_state()
    a = dropout(x, torch.Generator().manual_seed(0))
    assert torch.equal(a, dropout(x, torch.Generator().manual_seed(0)))
    assert not torch.equal(a, dropout(x, torch.Generator().manual_seed(1)))
    assert torch.equal(torch.random.get_rng_state(), state)
    torch.testing.assert_close(a.unique(), torch.tensor([0.0, 1 / 0.75]))
    assert (a == 0).float().mean().item() == pytest.approx(0.25, abs=0.01)
    assert torch.equal(dropout.eval()(x, torch.Generator()), x)


def test_concurrent_fits_with_one_seed_match_a_fit_alone():
    X, y = load_digits(return_X_y=True)
    X, y = X[:200], y[:200]
    params = dict(hidden_units=16, n_layers=2, dropout=0.5, max_epochs=3)
    state = torch.random.get_rng_state()
    alone = TorchMLPClassifier(**params, random_state=0).fit(X, y).predict_proba(X)
    start = threading.Barrier(2)

    def fit():
        start.wait()
        return TorchMLPClassifier(**params, random_state=0).fit(X, y).predict_proba(X)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(2):
            for future in [pool.submit(fit), pool.submit(fit)]:
                np.testing.assert_array_equal(future.result(), alone)
    assert torch.equal(torch.random.get_rng_state(), state)
    other = TorchMLPClassifier(**params, random_state=1).fit(X, y).predict_proba(X)
    assert not np.allclose(other, alone)
