import functools

import numpy as np
import pytest
import torch
from conftest import ScriptedLoss
from torch import nn

from vaeaug.engine.callbacks import Callback, EarlyStopping
from vaeaug.engine.networks import ConvVAE, DenseVAE, build_mlp, elbo_terms
from vaeaug.engine.training import cosine_with_warmup, init_module, split_validation, train_module

GAUSSIAN = functools.partial(elbo_terms, likelihood="gaussian")


def _data(n=64, d=4, seed=0):
    return torch.as_tensor(np.random.RandomState(seed).normal(size=(n, d)), dtype=torch.float32)


def train(module, loss_terms, train_data, valid_data, seed=0, **kwargs):
    """train_module with a generator seeded by ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    return train_module(module, loss_terms, train_data, valid_data, generator=generator, **kwargs)


def test_history_records_losses_per_epoch():
    module = DenseVAE(4, 2, 16)
    history = train(
        module,
        GAUSSIAN,
        (_data(),),
        (_data(16, seed=1),),
        max_epochs=3,
        batch_size=16,
        learning_rate=1e-3,
    )
    assert [r["epoch"] for r in history] == [1, 2, 3]
    for record in history:
        assert record["train_loss"] == pytest.approx(
            record["train_reconstruction"] + record["train_kl"]
        )
        assert record["valid_loss"] == pytest.approx(
            record["valid_reconstruction"] + record["valid_kl"]
        )
        assert record["duration"] > 0
    assert not module.training


def test_training_reduces_the_loss():
    rng = np.random.RandomState(0)
    low_rank = rng.normal(size=(256, 2)) @ rng.normal(size=(2, 4)) * 2
    module = DenseVAE(4, 2, 32)
    history = train(
        module,
        GAUSSIAN,
        (torch.as_tensor(low_rank, dtype=torch.float32),),
        None,
        max_epochs=30,
        batch_size=32,
        learning_rate=3e-3,
    )
    assert history[-1]["train_loss"] < 0.5 * history[0]["train_loss"]
    assert "valid_loss" not in history[-1]


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_learning_rate_schedule(schedule):
    history = train(
        DenseVAE(4, 2, 16),
        GAUSSIAN,
        (_data(),),
        None,
        max_epochs=4,
        batch_size=16,
        learning_rate=1e-3,
        learning_rate_schedule=schedule,
    )
    rates = [record["learning_rate"] for record in history]
    if schedule == "constant":
        assert rates == [1e-3] * 4
    else:
        # Warm-up ends with the first epoch (4 steps), then a half cosine over 12 steps.
        assert rates[0] == pytest.approx(1e-3)
        assert rates == sorted(rates, reverse=True)
        assert 0 < rates[-1] < 0.05e-3


def test_cosine_with_warmup_shape():
    factor = cosine_with_warmup(warmup_steps=10, total_steps=110)
    values = [factor(step) for step in range(110)]
    assert values[:10] == pytest.approx([(i + 1) / 10 for i in range(10)])
    assert values[10] == 1.0
    assert values[60] == pytest.approx(0.5)
    assert values[10:] == sorted(values[10:], reverse=True)
    assert 0 < values[-1] < 1e-3


class _Snapshot(Callback):
    def on_train_begin(self, module):
        self.weights = []

    def on_epoch_end(self, module, history):
        self.weights.append(module.head.mean.weight.detach().clone())


def test_early_stopping_stops_and_restores_the_best_epoch():
    module = DenseVAE(4, 2, 8)
    snapshot = _Snapshot()
    stopper = EarlyStopping(patience=2)
    history = train(
        module,
        GAUSSIAN,
        (_data(),),
        (_data(8, seed=1),),
        max_epochs=50,
        batch_size=16,
        learning_rate=1e-2,
        callbacks=[ScriptedLoss([5.0, 3.0, 4.0, 3.5, 1.0]), snapshot, stopper],
    )
    assert len(history) == 4  # best at epoch 2, then two epochs without improvement
    assert stopper.best_epoch_ == 2
    torch.testing.assert_close(module.head.mean.weight, snapshot.weights[1])


def test_early_stopping_names_a_missing_monitor():
    with pytest.raises(KeyError, match="valid_reconstruction"):
        train(
            DenseVAE(4, 2, 8),
            GAUSSIAN,
            (_data(),),
            None,
            max_epochs=2,
            batch_size=16,
            learning_rate=1e-3,
            callbacks=[EarlyStopping()],
        )


def test_divergence_raises_a_clear_error():
    x = _data()
    x[3, 1] = float("nan")
    with pytest.raises(FloatingPointError, match="Training diverged at epoch 1"):
        train(
            DenseVAE(4, 2, 8),
            GAUSSIAN,
            (x,),
            None,
            max_epochs=5,
            batch_size=16,
            learning_rate=1e-3,
        )


def _weights(module):
    return [tensor.clone() for tensor in module.state_dict().values()]


def test_training_draws_only_from_its_generator():
    global_state = torch.random.get_rng_state()
    runs = []
    for seed in (7, 7, 8):
        module = init_module(functools.partial(DenseVAE, 4, 2, 8), torch.Generator().manual_seed(0))
        train(
            module,
            GAUSSIAN,
            (_data(),),
            None,
            seed,
            max_epochs=2,
            batch_size=16,
            learning_rate=1e-2,
        )
        runs.append(_weights(module))
    for a, b in zip(runs[0], runs[1], strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert any(not torch.equal(a, c) for a, c in zip(runs[0], runs[2], strict=True))
    assert torch.equal(torch.random.get_rng_state(), global_state)


@pytest.mark.parametrize(
    "build",
    [
        functools.partial(ConvVAE, (1, 9, 7), 3, (4, 2), 16),
        functools.partial(DenseVAE, 5, 2, 8),
        functools.partial(build_mlp, 5, 3, 8, 2, 0.5),
    ],
    ids=["conv", "dense", "mlp"],
)
def test_init_module_draws_torchs_default_initialisation_from_its_generator(build):
    global_state = torch.random.get_rng_state()
    module = init_module(build, torch.Generator().manual_seed(5))
    assert torch.equal(torch.random.get_rng_state(), global_state)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(5)
        default = build()
    assert type(module) is type(default)
    assert module.state_dict().keys() == default.state_dict().keys()
    for name, expected in default.state_dict().items():
        actual = module.state_dict()[name]
        torch.testing.assert_close(actual, expected, rtol=0, atol=0, msg=name)
        assert actual.stride() == expected.stride(), name  # channels-last kept


def test_init_module_refuses_layers_it_cannot_initialise():
    with pytest.raises(TypeError, match="cannot initialise a Embedding layer"):
        init_module(lambda: nn.Sequential(nn.Linear(2, 3), nn.Embedding(4, 2)), torch.Generator())


@pytest.mark.parametrize(
    "n, fraction, n_valid", [(100, 0.1, 10), (5, 0.01, 1), (1, 0.5, 0), (10, 0.0, 0), (2, 0.9, 1)]
)
def test_split_validation_sizes(n, fraction, n_valid):
    train, valid = split_validation(n, fraction, np.random.RandomState(0))
    assert len(valid) == n_valid
    assert sorted(np.concatenate([train, valid])) == list(range(n))


def test_augment_changes_training_batches_only():
    seen = {"train": [], "valid": []}
    valid = _data(16, seed=1)

    def recording_terms(module, x, generator=None):
        seen["train" if module.training else "valid"].append(x.clone())
        assert (generator is None) != module.training
        return GAUSSIAN(module, x, generator=generator)

    history = train(
        DenseVAE(4, 2, 16),
        recording_terms,
        (_data(),),
        (valid,),
        max_epochs=2,
        batch_size=16,
        learning_rate=1e-3,
        augment=lambda x, generator: x + 100.0,
    )
    assert len(seen["train"]) == 2 * 4  # every training batch of both epochs
    assert all(batch.min() > 90 for batch in seen["train"])
    torch.testing.assert_close(torch.cat(seen["valid"][:1]), valid)
    assert history[0]["train_reconstruction"] > 10 * history[0]["valid_reconstruction"]


def test_the_weighted_sum_of_the_terms_is_what_training_minimises():
    # a = (p - 1)^2 and b = (p + 1)^2: a + w * b is least at p = (1 - w) / (1 + w).
    class Point(nn.Module):
        def __init__(self):
            super().__init__()
            self.p = nn.Parameter(torch.zeros(()))

    def terms(module, x, generator=None):
        return {"a": (module.p - 1) ** 2, "b": (module.p + 1) ** 2}

    for weight in (0.25, 1.0, 3.0):
        module = Point()
        history = train(
            module,
            terms,
            (torch.zeros(8, 1),),
            None,
            max_epochs=300,
            batch_size=8,
            learning_rate=0.05,
            learning_rate_schedule="cosine",
            term_weights={"b": weight},
        )
        assert module.p.item() == pytest.approx((1 - weight) / (1 + weight), abs=1e-3)
        assert history[-1]["train_loss"] == pytest.approx(
            history[-1]["train_a"] + weight * history[-1]["train_b"]
        )
