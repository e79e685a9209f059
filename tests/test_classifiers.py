import numpy as np
import pytest
from sklearn.datasets import load_digits
from torch import nn

from vaeaug.classifiers import MLPClassifier, build_mlp


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
    clf = MLPClassifier(**params).fit(X[:1000], labels[:1000])
    assert clf.score(X[1000:], labels[1000:]) > 0.9
    assert set(clf.predict(X[1000:1010])) <= set(clf.classes_)
    np.testing.assert_allclose(clf.predict_proba(X[1000:]).sum(axis=1), 1.0, rtol=1e-6)
    again = MLPClassifier(**params).fit(X[:1000], labels[:1000])
    np.testing.assert_array_equal(clf.predict_proba(X[1000:]), again.predict_proba(X[1000:]))


def test_one_class_is_refused():
    with pytest.raises(ValueError, match="at least 2 classes"):
        MLPClassifier(max_epochs=1).fit(np.ones((4, 2)), [1, 1, 1, 1])
