"""A fit that raises (Ctrl-C, divergence, a callback's error) leaves the estimator as it was."""

import functools

import numpy as np
import pytest
import torch
from conftest import FAST, ScriptedLoss
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_validate
from sklearn.utils.validation import check_is_fitted

from vaeaug import VAE, TorchMLPClassifier
from vaeaug.engine.callbacks import Callback, EarlyStopping, ProgressBar
from vaeaug.engine.networks import DenseVAE, elbo_terms
from vaeaug.engine.training import train_module


class _InterruptAt(Callback):
    """Presses Ctrl-C at the end of epoch ``epoch``.

    Estimators train with copies of their callbacks, so the number of epochs
    each copy saw at ``on_train_end`` is logged on the class.
    """

    ended: list[int] = []

    def __init__(self, epoch=2):
        self.epoch = epoch

    def on_epoch_end(self, module, history):
        if len(history) == self.epoch:
            raise KeyboardInterrupt

    def on_train_end(self, module, history):
        _InterruptAt.ended.append(len(history))


@pytest.fixture(autouse=True)
def _clear_log():
    _InterruptAt.ended.clear()


def _fitted_attributes(estimator):
    return {name: value for name, value in vars(estimator).items() if name.endswith("_")}


def _assert_same_objects(after, before):
    assert after.keys() == before.keys()
    assert all(after[name] is value for name, value in before.items())


def _weights(module):
    return {name: tensor.clone() for name, tensor in module.state_dict().items()}


def _assert_same_weights(module, weights):
    assert module.state_dict().keys() == weights.keys()
    for name, tensor in module.state_dict().items():
        assert torch.equal(tensor, weights[name]), name


def test_interrupt_leaves_an_unfitted_vae_unfitted(digits):
    vae = VAE(**FAST, callbacks=[_InterruptAt(2)], random_state=0)
    before = dict(vars(vae))
    with pytest.raises(KeyboardInterrupt):
        vae.fit(digits[0])
    assert _InterruptAt.ended == [2]  # on_train_end ran after the second epoch
    with pytest.raises(NotFittedError):
        check_is_fitted(vae)
    _assert_same_objects(vars(vae), before)


@pytest.fixture
def fitted_vae(digits):
    """A VAE fitted on the digits images, with its outputs and state."""
    X = digits[0]
    vae = VAE(**FAST, random_state=0).fit(X)
    Z = vae.transform(X)
    return vae, Z, vae.inverse_transform(Z), _fitted_attributes(vae), _weights(vae.module_)


def _assert_unchanged(fitted_vae, X):
    vae, Z, X_rec, attributes, weights = fitted_vae
    _assert_same_objects(_fitted_attributes(vae), attributes)
    _assert_same_weights(vae.module_, weights)
    np.testing.assert_array_equal(vae.transform(X), Z)
    np.testing.assert_array_equal(vae.inverse_transform(Z), X_rec)


def test_interrupted_refit_keeps_the_previous_fit(fitted_vae, digits):
    vae = fitted_vae[0]
    vae.set_params(callbacks=[_InterruptAt(2)])
    table = np.random.RandomState(0).normal(size=(50, 10))  # would set mean_ and scale_
    with pytest.raises(KeyboardInterrupt):
        vae.fit(table)
    assert _InterruptAt.ended == [2]
    _assert_unchanged(fitted_vae, digits[0])
    assert vae.n_features_in_ == 64 and not hasattr(vae, "mean_")


def test_divergence_names_learning_rate_and_leaves_the_vae_as_it_was(fitted_vae, digits):
    X = digits[0]
    unfitted = VAE(**FAST, learning_rate=1e30, random_state=0)
    before = dict(vars(unfitted))
    with pytest.raises(FloatingPointError, match="smaller learning_rate"):
        unfitted.fit(X)
    _assert_same_objects(vars(unfitted), before)

    fitted_vae[0].set_params(learning_rate=1e30)
    with pytest.raises(FloatingPointError, match="smaller learning_rate"):
        fitted_vae[0].fit(X * 2)  # would change layout_.pixel_max
    _assert_unchanged(fitted_vae, X)


def test_a_callbacks_error_propagates_and_leaves_the_vae_as_it_was(fitted_vae, digits):
    class Broken(Callback):
        def on_epoch_end(self, module, history):
            raise ValueError("broken callback")

    fitted_vae[0].set_params(callbacks=[_InterruptAt(5), Broken()])
    with pytest.raises(ValueError, match="broken callback"):
        fitted_vae[0].fit(digits[0])
    assert _InterruptAt.ended == [1]
    _assert_unchanged(fitted_vae, digits[0])


def test_a_refit_drops_the_attributes_of_the_previous_fit(digits):
    vae = VAE(**FAST, random_state=0).fit(digits[0])
    assert not hasattr(vae, "mean_")
    vae.fit(np.random.RandomState(0).normal(size=(50, 10)))
    assert hasattr(vae, "mean_") and vae.layout_.pixel_max is None
    assert vae.n_features_in_ == 10 and vae.layout_.image_shape is None


def test_the_progress_bar_closes_after_an_interrupt(digits, monkeypatch):
    bars = []
    begin = ProgressBar.on_train_begin

    def spy(self, module):
        begin(self, module)
        bars.append(self._bar)

    monkeypatch.setattr(ProgressBar, "on_train_begin", spy)
    with pytest.raises(KeyboardInterrupt):
        VAE(**FAST, verbose=1, callbacks=[_InterruptAt(2)], random_state=0).fit(digits[0])
    [bar] = bars
    assert bar.n == 2  # two epochs shown
    assert bar.disable  # set by tqdm's close()
    assert bar not in type(bar)._instances


def test_ctrl_c_stops_a_whole_cross_validation(digits):
    vae = VAE(**FAST, callbacks=[_InterruptAt(1)], random_state=0)
    with pytest.raises(KeyboardInterrupt):
        cross_validate(vae, digits[0], scoring=lambda *args: 0.0, cv=3, error_score=np.nan)
    assert _InterruptAt.ended == [1]  # the first fit, and no other


class _Log(Callback):
    """Logs its hook calls to a shared list; ``fail`` names a hook that raises."""

    def __init__(self, name, log, fail=None):
        self.name, self.log, self.fail = name, log, fail

    def _call(self, hook):
        self.log.append((self.name, hook))
        if hook == self.fail:
            raise RuntimeError(f"{self.name} failed in {hook}")

    def on_train_begin(self, module):
        self._call("begin")

    def on_train_end(self, module, history):
        self._call("end")


def _train(callbacks):
    """A network and a function that trains it for up to 5 epochs with ``callbacks``."""
    data = torch.as_tensor(np.random.RandomState(0).normal(size=(64, 4)), dtype=torch.float32)
    module = DenseVAE(4, 2, 8)
    return module, functools.partial(
        train_module,
        module,
        functools.partial(elbo_terms, likelihood="gaussian"),
        (data,),
        (data[:16],),
        generator=torch.Generator().manual_seed(0),
        callbacks=callbacks,
        max_epochs=5,
        batch_size=16,
        learning_rate=1e-2,
    )


def test_early_stopping_restores_the_best_weights_and_lets_go_after_an_interrupt():
    weights = []

    class Snapshot(Callback):
        def on_epoch_end(self, module, history):
            weights.append(_weights(module))

    stopper = EarlyStopping(patience=10)
    module, run = _train([ScriptedLoss([5.0, 3.0, 4.0]), Snapshot(), stopper, _InterruptAt(3)])
    with pytest.raises(KeyboardInterrupt):
        run()
    assert stopper.best_epoch_ == 2
    _assert_same_weights(module, weights[1])
    assert stopper._best_state is None
    assert not module.training


def test_every_begun_callback_ends_in_order_even_when_one_fails():
    log = []
    callbacks = [_Log("a", log), _Log("b", log, fail="end"), _Log("c", log)]
    module, run = _train(callbacks)
    with pytest.raises(RuntimeError, match="b failed in end"):
        run()
    assert log == [("a", "begin"), ("b", "begin"), ("c", "begin")] + [
        ("a", "end"),
        ("b", "end"),
        ("c", "end"),
    ]
    assert not module.training

    log.clear()
    _, run = _train([_Log("a", log), _Log("b", log, fail="begin"), _Log("c", log)])
    with pytest.raises(RuntimeError, match="b failed in begin"):
        run()
    assert log == [("a", "begin"), ("b", "begin"), ("a", "end")]  # b did not begin


def test_interrupted_or_diverging_classifier_fit_leaves_it_as_it_was(blobs, monkeypatch):
    X, y = blobs
    params = dict(hidden_units=8, n_layers=1, max_epochs=4, random_state=0)
    clf = TorchMLPClassifier(**params).fit(X, y)
    proba = clf.predict_proba(X)
    attributes, weights = _fitted_attributes(clf), _weights(clf.module_)

    clf.set_params(learning_rate=1e30)
    with pytest.raises(FloatingPointError, match="smaller learning_rate"):
        clf.fit(X[:, :3], y)
    _assert_same_objects(_fitted_attributes(clf), attributes)

    calls = []
    terms = TorchMLPClassifier._loss_terms

    def interrupting_terms(*args, **kwargs):
        calls.append(None)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return terms(*args, **kwargs)

    monkeypatch.setattr(TorchMLPClassifier, "_loss_terms", interrupting_terms)
    unfitted = TorchMLPClassifier(**params)
    with pytest.raises(KeyboardInterrupt):
        unfitted.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(unfitted)
    calls.clear()
    clf.set_params(learning_rate=1e-3)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X[:, :3], y)
    _assert_same_objects(_fitted_attributes(clf), attributes)
    _assert_same_weights(clf.module_, weights)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
