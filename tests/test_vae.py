import pickle
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from conftest import FAST, assert_global_random_states_are, global_random_states

from vaeaug import VAE
from vaeaug.engine import training
from vaeaug.engine.callbacks import Callback
from vaeaug.engine.networks import ConvVAE, DenseVAE


def test_fit_transform_inverse_transform_on_digits(digits):
    X, _ = digits
    vae = VAE(**FAST, random_state=0).fit(X)
    assert isinstance(vae.module_, ConvVAE)
    assert vae.layout_.image_shape == (1, 8, 8)
    assert vae.layout_.pixel_max == 16.0
    Z = vae.transform(X)
    assert Z.shape == (300, 4) and Z.dtype == np.float64
    X_rec = vae.inverse_transform(Z)
    assert X_rec.shape == X.shape
    assert X_rec.min() >= 0 and X_rec.max() <= 16
    assert list(vae.get_feature_names_out()) == [f"vae{i}" for i in range(4)]


def _digits_28(X):
    """scikit-learn's 8x8 digits enlarged to 28x28, as flat rows."""
    return np.kron(X.reshape(-1, 8, 8), np.ones((1, 4, 4)))[:, 2:30, 2:30].reshape(len(X), -1)


@pytest.mark.parametrize(
    "data, architecture, expected",
    [
        ("digits 28", "auto", (1, 28, 28)),
        ("digits", "auto", (1, 8, 8)),
        ("noise 784", "auto", None),  # a square width without an image's pixels: a table
        ("noise 49", "auto", None),  # 7x7 is below the smallest inferred side
        ("noise 49", "conv", (1, 7, 7)),
        ("noise 10", "auto", None),
        ("digits 28", "dense", None),
    ],
)
def test_image_shape_inference(data, architecture, expected, digits):
    name, _, width = data.partition(" ")
    if name == "digits":
        X = _digits_28(digits[0][:40]) if width == "28" else digits[0][:40]
    else:
        X = np.random.RandomState(0).rand(20, int(width))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "X has .* features per sample whose neighbouring")
        vae = VAE(**FAST, architecture=architecture, random_state=0).fit(X)
    assert vae.layout_.image_shape == expected
    assert isinstance(vae.module_, DenseVAE if expected is None else ConvVAE)


@pytest.mark.parametrize("shape", [(6, 5), (2, 6, 5)])
def test_image_arrays_keep_their_shape(shape):
    X = np.random.RandomState(0).rand(12, *shape)
    vae = VAE(**FAST, random_state=0).fit(X)
    assert vae.layout_.image_shape == ((1, *shape) if len(shape) == 2 else shape)
    assert vae.n_features_in_ == int(np.prod(shape))
    assert vae.inverse_transform(vae.transform(X)).shape == X.shape


def test_explicit_image_shape_with_channels():
    X = np.random.RandomState(0).rand(12, 3 * 4 * 5)
    vae = VAE(**FAST, image_shape=(3, 4, 5), random_state=0).fit(X)
    assert vae.layout_.image_shape == (3, 4, 5)
    assert vae.inverse_transform(vae.transform(X)).shape == X.shape


def test_uint8_images_decode_in_the_0_255_scale():
    X = (np.random.RandomState(0).rand(20, 8, 8) * 255).astype(np.uint8)
    X[0, 0, 0] = 255
    vae = VAE(**FAST, random_state=0).fit(X)
    assert vae.layout_.pixel_max == 255.0
    X_rec = vae.inverse_transform(vae.transform(X))
    assert X_rec.max() > 1.0 and X_rec.max() <= 255.0


def test_tables_are_standardised_and_decoded_back():
    rng = np.random.RandomState(0)
    X = rng.normal(1000.0, 50.0, size=(200, 3))
    vae = VAE(**FAST, random_state=0).fit(X)
    np.testing.assert_allclose(vae.mean_, X.mean(axis=0))
    np.testing.assert_allclose(vae.scale_, X.std(axis=0))
    standardised = torch.as_tensor((X - vae.mean_) / vae.scale_, dtype=torch.float32)
    Z = vae.transform(X)
    with torch.no_grad():
        np.testing.assert_allclose(Z, vae.module_.encode(standardised)[0].numpy(), rtol=1e-5)
        decoded = vae.module_.decode(torch.as_tensor(Z, dtype=torch.float32)).numpy()
    # Decoded in the scale of the data: the network's output times the scale, plus the mean.
    np.testing.assert_allclose(
        vae.inverse_transform(Z), decoded * vae.scale_ + vae.mean_, rtol=1e-5, atol=1e-3
    )


def test_float32_stays_float32(digits):
    X = digits[0].astype(np.float32)
    vae = VAE(**FAST, random_state=0).fit(X)
    Z = vae.transform(X)
    assert Z.dtype == np.float32
    assert vae.inverse_transform(Z).dtype == np.float32


#: Training jitter too, so that every source of randomness is drawn from.
SEEDED = dict(FAST, train_max_rotation="auto", train_max_shift="auto")


def test_same_random_state_same_model_and_global_state_untouched(digits):
    X = digits[0][:150]
    states = global_random_states()
    a = VAE(**SEEDED, random_state=3).fit(X)
    b = VAE(**SEEDED, random_state=3).fit(X)
    c = VAE(**SEEDED, random_state=4).fit(X)
    for name, weights in a.module_.state_dict().items():
        assert torch.equal(b.module_.state_dict()[name], weights), name
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    assert [r["train_loss"] for r in a.history_] == [r["train_loss"] for r in b.history_]
    assert not np.allclose(a.transform(X), c.transform(X))
    assert_global_random_states_are(states)
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(VAE(**SEEDED, random_state=3).fit, X).result()
    assert_global_random_states_are(states)


def test_concurrent_fits_with_one_seed_match_a_fit_alone(digits):
    X = digits[0][:150]
    alone = VAE(**SEEDED, random_state=3).fit(X).transform(X)
    start = threading.Barrier(2)

    def fit():
        start.wait()
        return VAE(**SEEDED, random_state=3).fit(X).transform(X)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in range(3):
            for future in [pool.submit(fit), pool.submit(fit)]:
                np.testing.assert_array_equal(future.result(), alone)


def test_early_stopping_and_validation_switches(digits):
    X, _ = digits
    vae = VAE(**{**FAST, "max_epochs": 4}, validation_fraction=0.0, random_state=0).fit(X)
    assert len(vae.history_) == 4 and "valid_loss" not in vae.history_[0]
    vae = VAE(**{**FAST, "max_epochs": 4}, patience=None, random_state=0).fit(X)
    assert len(vae.history_) == 4 and "valid_loss" in vae.history_[0]


class _Snapshots(Callback):
    """Keeps the weights after each epoch, in a class attribute: fit copies callbacks."""

    states: list = []

    def on_epoch_end(self, module, history):
        type(self).states.append({k: v.clone() for k, v in module.state_dict().items()})


def test_patience_stops_after_epochs_without_improvement_and_restores_the_best(digits, monkeypatch):
    def scripted_evaluation(losses):
        losses = iter(losses)
        return lambda *args: {"reconstruction": next(losses), "kl": 0.0}

    # Validation reconstructions scripted per epoch: the best is epoch 2.
    losses = [5.0, 3.0, 4.0, 3.5, 3.2, 6.0, 7.0, 8.0]
    monkeypatch.setattr(training, "evaluate", scripted_evaluation(losses))
    _Snapshots.states = []
    params = dict(FAST, max_epochs=8, random_state=0)
    vae = VAE(**params, patience=2, callbacks=[_Snapshots()]).fit(digits[0])
    assert [record["valid_reconstruction"] for record in vae.history_] == losses[:4]
    assert len(_Snapshots.states) == 4  # stopped 2 epochs after the best
    restored = vae.module_.state_dict()
    for name, value in _Snapshots.states[1].items():  # the weights of epoch 2
        assert torch.equal(restored[name], value), name
    assert not all(torch.equal(restored[k], v) for k, v in _Snapshots.states[3].items())

    monkeypatch.setattr(training, "evaluate", scripted_evaluation(losses))
    vae = VAE(**params, patience=None).fit(digits[0])
    assert [record["valid_reconstruction"] for record in vae.history_] == losses


class _CountEpochs(Callback):
    def on_train_begin(self, module):
        self.epochs = 0

    def on_epoch_end(self, module, history):
        self.epochs += 1
        return self.epochs == 2


def test_user_callbacks_run_on_copies_and_can_stop(digits):
    X, _ = digits
    counter = _CountEpochs()
    vae = VAE(**FAST, callbacks=[counter], random_state=0).fit(X)
    assert len(vae.history_) == 2
    assert not hasattr(counter, "epochs")  # the parameter itself is not mutated
    assert vae.callbacks[0] is counter


class _InitialWeights(Callback):
    """Records, in a class attribute (fit copies callbacks), the weights training starts from."""

    state = None

    def on_train_begin(self, module):
        type(self).state = {name: p.detach().clone() for name, p in module.named_parameters()}


def test_the_decoder_starts_at_the_mean_intensity_of_each_channel():
    rng = np.random.RandomState(0)
    images = np.stack([rng.rand(40, 8, 8) < 0.1, rng.rand(40, 8, 8) < 0.6], axis=1) * 255.0
    VAE(**FAST, callbacks=[_InitialWeights()], random_state=0).fit(images.astype(np.uint8))
    started_at = torch.sigmoid(_InitialWeights.state["decoder.7.bias"])
    expected = images.mean(axis=(0, 2, 3)) / 255  # a few rows are held out: close, not equal
    np.testing.assert_allclose(started_at.numpy(), expected, atol=0.02)


def test_images_start_from_he_initialisation_and_tables_from_torchs(digits):
    X, _ = digits
    VAE(**FAST, callbacks=[_InitialWeights()], random_state=0).fit(X.reshape(-1, 8, 8))
    assert torch.all(_InitialWeights.state["encoder.0.bias"] == 0)  # see test_network
    VAE(**FAST, architecture="dense", callbacks=[_InitialWeights()], random_state=0).fit(X)
    assert torch.all(_InitialWeights.state["encoder.0.bias"] != 0)


def test_callbacks_that_are_not_callbacks_are_refused_by_name(digits):
    with pytest.raises(TypeError, match=r"^callbacks must be a list of .*Callback instances; it "):
        VAE(**FAST, callbacks=[print], random_state=0).fit(digits[0])


def test_verbose_shows_a_progress_bar(digits, capsys):
    VAE(**FAST, verbose=1, random_state=0).fit(digits[0])
    assert "VAE training" in capsys.readouterr().err


def test_pickle_round_trip(digits):
    X, _ = digits
    vae = VAE(**FAST, random_state=0).fit(X)
    restored = pickle.loads(pickle.dumps(vae))
    np.testing.assert_array_equal(restored.transform(X), vae.transform(X))


def test_unpickles_on_a_machine_without_cuda(digits, monkeypatch):
    vae = VAE(**FAST, random_state=0).fit(digits[0])
    vae.device_ = torch.device("cuda")  # as if trained on a GPU machine
    state = vae.__getstate__()
    state["module_"] = vae.module_  # already on the CPU here
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    restored = VAE.__new__(VAE)
    with pytest.warns(UserWarning, match="loaded on the CPU"):
        restored.__setstate__(state)
    assert restored.device_ == torch.device("cpu")
    assert restored.transform(digits[0][:2]).shape == (2, 4)


@pytest.mark.parametrize(
    "params, X, match",
    [
        ({"latent_dim": 0}, np.ones((5, 4)), "latent_dim"),
        ({"architecture": "resnet"}, np.ones((5, 4)), "architecture"),
        ({"learning_rate": -1.0}, np.ones((5, 4)), "learning_rate"),
        ({"learning_rate_schedule": "step"}, np.ones((5, 4)), "learning_rate_schedule"),
        ({"validation_fraction": 1.0}, np.ones((5, 4)), "validation_fraction"),
        ({"conv_channels": ()}, np.ones((5, 8, 8)), "conv_channels"),
        ({"conv_channels": (16, -2)}, np.ones((5, 8, 8)), "conv_channels"),
        ({"device": "tpu"}, np.ones((5, 4)), "device='tpu'"),
        ({"device": "meta"}, np.ones((5, 4)), "device='meta' is not supported"),
        ({}, np.full((5, 4), 1e200) * np.arange(1, 6)[:, None], "too large to standardise"),
        ({"architecture": "conv"}, np.ones((5, 10)), "10 features, which is not a square"),
        ({"image_shape": (3, 3)}, np.ones((5, 10)), r"image_shape=\(3, 3\) holds 9 values"),
        ({"image_shape": (0, 3)}, np.ones((5, 10)), "positive integers"),
        ({"architecture": "conv"}, -np.ones((5, 64)), "non-negative pixel values"),
        ({}, np.full((5, 4), np.nan), "NaN"),
        ({}, np.full((5, 4), np.inf), "infinity"),
        ({}, np.ones((0, 4)), "0 sample"),
        ({}, np.ones((2, 1, 2, 3, 4)), "X must have 2 dimensions"),
    ],
)
def test_bad_input_gets_a_clear_error(params, X, match):
    with pytest.raises(ValueError, match=match):
        VAE(**{**FAST, **params}).fit(X)


def test_transform_checks_the_width_and_inverse_transform_the_latent_size(digits):
    vae = VAE(**FAST, random_state=0).fit(digits[0])
    with pytest.raises(ValueError, match="64 features"):
        vae.transform(np.ones((2, 63)))
    with pytest.raises(ValueError, match="latent_dim is 4"):
        vae.inverse_transform(np.ones((2, 5)))


def test_fit_does_not_modify_its_input(digits):
    X = digits[0].copy()
    VAE(**FAST, random_state=0).fit(X)
    np.testing.assert_array_equal(X, digits[0])


def test_kl_weight_scales_the_kl_in_the_objective(digits):
    vae = VAE(**FAST, kl_weight=0.25, random_state=0).fit(digits[0])
    for record in vae.history_:
        assert record["train_loss"] == pytest.approx(
            record["train_reconstruction"] + 0.25 * record["train_kl"]
        )
    with pytest.raises(ValueError, match="'kl_weight' parameter"):
        VAE(kl_weight=-1.0).fit(digits[0])


def test_training_jitter_is_drawn_within_the_resolved_bounds(digits, training_jitter_calls):
    calls = training_jitter_calls
    jittered = dict(train_max_rotation="auto", train_max_shift="auto", random_state=0)
    VAE(**FAST, **jittered).fit(digits[0].reshape(-1, 8, 8))
    assert calls and all(shape[1:] == (1, 8, 8) for shape, _, _ in calls)
    assert {(rotation, shift) for _, rotation, shift in calls} == {(10.0, round(8 / 14, 6))}
    calls.clear()
    with pytest.warns(UserWarning, match="read as 8x8 single-channel images"):
        VAE(**FAST, **jittered).fit(digits[0])  # flat rows recognised as images: the same
    assert {(rotation, shift) for _, rotation, shift in calls} == {(10.0, round(8 / 14, 6))}
    calls.clear()
    VAE(**FAST, random_state=0).fit(digits[0])  # off by default
    VAE(**FAST, architecture="dense", train_max_rotation="auto", random_state=0).fit(digits[0])
    assert calls == []


def test_training_jitter_changes_the_model_reproducibly(digits):
    X = digits[0][:200]
    plain = VAE(**FAST, random_state=0).fit(X).transform(X[:5])
    params = dict(**FAST, train_max_rotation=10, train_max_shift=1, random_state=0)
    jittered = VAE(**params).fit(X).transform(X[:5])
    assert not np.allclose(plain, jittered)
    np.testing.assert_array_equal(VAE(**params).fit(X).transform(X[:5]), jittered)
    with pytest.raises(ValueError, match="train_max_rotation=10 and train_max_shift=1 jitter"):
        VAE(**{**params, "architecture": "dense"}).fit(X)


def _same_model(a, b):
    for name, weights in a.module_.state_dict().items():
        assert torch.equal(b.module_.state_dict()[name], weights), name


def test_a_uint8_memmap_trains_and_encodes_like_the_array_in_memory(digits, tmp_path):
    images = digits[0].astype(np.uint8).reshape(-1, 8, 8)
    np.save(tmp_path / "pool.npy", images)
    pool = np.load(tmp_path / "pool.npy", mmap_mode="r")
    params = dict(SEEDED, random_state=0)
    in_memory = VAE(**params).fit(images)
    mapped = VAE(**params).fit(pool)
    _same_model(in_memory, mapped)
    assert mapped.layout_.pixel_max == 16.0
    np.testing.assert_array_equal(mapped.transform(pool), in_memory.transform(images))


class IndexedArray:
    """An array-like read by index, as an h5py dataset is: it refuses row numbers
    out of increasing order, records the number of rows of each read, and fails
    if it is converted whole with ``np.asarray``."""

    def __init__(self, array):
        self.array = array
        self.shape = array.shape
        self.dtype = array.dtype
        self.reads = []

    def __len__(self):
        return len(self.array)

    def __getitem__(self, rows):
        if not isinstance(rows, slice) and np.any(np.diff(rows) <= 0):
            raise TypeError("Indexing elements must be in increasing order")
        block = self.array[rows]
        self.reads.append(len(block))
        return block

    def __array__(self, dtype=None, copy=None):
        raise AssertionError("X was converted whole")


@pytest.mark.parametrize("shape", [(64,), (8, 8)])
def test_fit_and_transform_read_an_array_like_by_batches(digits, shape):
    images = np.tile(digits[0].astype(np.uint8), (9, 1)).reshape(-1, *shape)  # 2,700 rows
    params = dict(FAST, image_shape=(8, 8), max_epochs=1, random_state=0)
    pool = IndexedArray(images)
    vae = VAE(**params).fit(pool)
    Z = vae.transform(pool)
    # Nothing read at once beyond a batch of the passes over the whole pool:
    # the pixel range and transform read 2,048 rows at a time.
    assert max(pool.reads) == 2048
    in_memory = VAE(**params).fit(images)
    _same_model(vae, in_memory)
    np.testing.assert_array_equal(Z, in_memory.transform(images))


def test_an_integer_table_read_by_index_is_read_once_and_standardised_like_the_array(digits):
    table = digits[0][:, :10].astype(np.int16)
    pool = IndexedArray(table)
    vae = VAE(**FAST, random_state=0).fit(pool)
    assert pool.reads == [len(table)]
    _same_model(vae, VAE(**FAST, random_state=0).fit(table))


class _LinearOutputTypes(Callback):
    """Record in the history the types of the first linear layer's training outputs."""

    def on_train_begin(self, module):
        self.types = set()
        layer = next(m for m in module.modules() if isinstance(m, torch.nn.Linear))
        layer.register_forward_hook(
            lambda m, args, out: self.types.add(str(out.dtype)) if m.training else None
        )

    def on_epoch_end(self, module, history):
        history[-1]["linear_output_types"] = sorted(self.types)


def test_bfloat16_precision_trains_in_mixed_precision_and_keeps_float32_weights(digits):
    X, _ = digits
    models = {
        precision: VAE(
            **FAST, precision=precision, callbacks=[_LinearOutputTypes()], random_state=0
        ).fit(X)
        for precision in ("float32", "bfloat16")
    }
    for precision, vae in models.items():
        assert vae.history_[-1]["linear_output_types"] == [f"torch.{precision}"]
    float32, bfloat16 = models["float32"], models["bfloat16"]
    assert all(p.dtype == torch.float32 for p in bfloat16.module_.parameters())
    assert bfloat16.transform(X).dtype == np.float64
    loss = {name: vae.history_[-1]["valid_reconstruction"] for name, vae in models.items()}
    assert loss["bfloat16"] == pytest.approx(loss["float32"], rel=0.1)
    pairs = zip(float32.module_.parameters(), bfloat16.module_.parameters(), strict=True)
    assert not all(torch.equal(a, b) for a, b in pairs)
    again = VAE(**FAST, precision="bfloat16", callbacks=[_LinearOutputTypes()], random_state=0)
    _same_model(bfloat16, again.fit(X))


def test_bfloat16_precision_is_refused_on_a_gpu_without_it(digits, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)
    vae = VAE(**FAST, precision="bfloat16", device="cuda")
    with pytest.raises(ValueError, match="precision='bfloat16' needs a GPU with bfloat16"):
        vae.fit(digits[0])
    assert not hasattr(vae, "module_")
