"""Bad input: each refusal names the problem and leaves what was passed in unchanged.

One test per case. Estimators: the error and its message, then ``X``, ``y``
and the estimator's parameters compared with copies taken before the call.
Loaders and the command line: the error and its message, then the data folder
compared with a snapshot. Inputs that are accepted (integer, boolean, float16
and object arrays, one-sample classes, ...) are tested to work instead.
The VAE's parameter checks live in test_vae.py.
"""

import copy
import gzip
import io
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import warnings
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.ndimage
import torch
from conftest import FAST
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.frozen import FrozenEstimator
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import InvalidParameterError

from vaeaug import (
    VAE,
    AffineJitterAugmenter,
    FeatureSpaceAugmenter,
    TorchMLPClassifier,
    VAEAugmenter,
)
from vaeaug.engine.image import resolve_jitter
from vaeaug.engine.networks import ConvVAE, DenseVAE
from vaeaug.paper.cli import main
from vaeaug.paper.datasets import load_mnist, load_ujipen, load_ujipen_v1, load_ujipen_v2_digits
from vaeaug.utils import decide_layout, has_pixel_structure

REPO_ROOT = Path(__file__).resolve().parents[1]
TINY = {**FAST, "max_epochs": 1, "hidden_units": 8, "conv_channels": (2,)}

X6 = np.arange(18, dtype=float).reshape(6, 3)
Y6 = np.array([0, 0, 0, 1, 1, 1])
IMAGES = np.random.RandomState(0).rand(6, 16)  # six 4x4 images, flattened


def _frame(**columns):
    return pd.DataFrame({"a": np.arange(6.0), **columns})


def _assert_unchanged(after, before):
    if isinstance(before, pd.DataFrame):
        pd.testing.assert_frame_equal(after, before)
    elif isinstance(before, np.ndarray):
        assert after.dtype == before.dtype and after.shape == before.shape
        np.testing.assert_array_equal(after, before)
    else:
        assert after == before


# ------------------------------------------------------------------ estimators


ESTIMATOR_CASES = [
    # What X holds
    pytest.param(
        FeatureSpaceAugmenter(),
        np.array([["a", "b", "c"]] * 6, dtype=object),
        Y6,
        r"X must hold real numbers \(booleans, integers or floats\); got dtype object "
        r"holding 'a' \(could not convert string to float: 'a'\)\. Encode categories as "
        r"numbers first",
        id="feature-space-object-strings",
    ),
    pytest.param(
        FeatureSpaceAugmenter(),
        np.array([["1.5", "x", "2"]] * 6),
        Y6,
        r"X must hold real numbers .* got dtype <U3\. Encode categories",
        id="feature-space-unicode-array",
    ),
    pytest.param(
        FeatureSpaceAugmenter(),
        X6 + 1j,
        Y6,
        r"^Complex data not supported: X must hold real numbers .* got dtype complex128\.$",
        id="feature-space-complex",
    ),
    pytest.param(
        FeatureSpaceAugmenter(),
        np.array([[1.0, None, 2.0]] * 6, dtype=object),
        Y6,
        (TypeError, r"got dtype object holding None \(float\(\) argument must be a string or a"),
        id="feature-space-object-none",
    ),
    pytest.param(
        FeatureSpaceAugmenter(),
        _frame(colour=pd.Categorical(list("rgbrgb"))),
        Y6,
        r"X must hold numbers, but these columns do not: 'colour' \(category\)\. "
        r"Encode categorical columns as numbers first",
        id="feature-space-frame-categorical",
    ),
    pytest.param(
        FeatureSpaceAugmenter(),
        _frame(size=pd.Categorical([1, 2, 3, 1, 2, 3])),
        Y6,
        r"these columns do not: 'size' \(category\)",
        id="feature-space-frame-numeric-categories",
    ),
    pytest.param(
        AffineJitterAugmenter(),
        pd.DataFrame(IMAGES).assign(name=list("abcdef")),
        Y6,
        r"these columns do not: 'name'",
        id="jitter-frame-strings",
    ),
    pytest.param(
        VAE(**TINY),
        _frame(colour=pd.Categorical(list("rgbrgb")), when=pd.date_range("2020", periods=6)),
        None,
        r"these columns do not: 'colour' \(category\), 'when' \(datetime64",
        id="vae-frame-categorical-and-dates",
    ),
    pytest.param(
        VAE(**TINY),
        np.array([["a"] * 3] * 6, dtype=object),
        None,
        r"X must hold real numbers .* holding 'a'",
        id="vae-object-strings",
    ),
    pytest.param(
        FeatureSpaceAugmenter(),
        np.where(np.eye(6, 3) > 0, np.nan, X6),
        Y6,
        "Input X contains NaN",
        id="feature-space-nan",
    ),
    pytest.param(
        FeatureSpaceAugmenter(),
        np.where(np.eye(6, 3) > 0, np.inf, X6),
        Y6,
        "infinity",
        id="feature-space-inf",
    ),
    pytest.param(
        AffineJitterAugmenter(),
        np.where(np.eye(6, 16) > 0, np.nan, IMAGES),
        Y6,
        "Input X contains NaN",
        id="jitter-nan",
    ),
    pytest.param(  # trained on images divided by 1e39: zeros in float32
        VAE(**TINY, image_shape=(4, 4)),
        np.where(np.eye(6, 16) > 0, 1e39, IMAGES),
        None,
        r"^X holds 1e\+39, out of float32's range \(\+-3\.403e\+38\), in which the VAE computes\.$",
        id="vae-pixel-beyond-float32",
    ),
    # The shape of X
    pytest.param(
        FeatureSpaceAugmenter(), np.ones((0, 3)), [], r"0 sample\(s\)", id="feature-space-empty"
    ),
    pytest.param(
        FeatureSpaceAugmenter(),
        np.ones((6, 0)),
        Y6,
        r"0 feature\(s\)",
        id="feature-space-no-features",
    ),
    pytest.param(  # numpy's "cannot reshape array of size 0"
        VAE(**TINY),
        np.zeros((0, 8, 8)),
        None,
        r"^X must hold at least one sample and one value per sample; its shape is \(0, 8, 8\)\.$",
        id="vae-no-images",
    ),
    pytest.param(
        AffineJitterAugmenter(),
        np.zeros((0, 1, 4, 4)),
        [],
        r"^X must hold at least one sample and one value per sample; its shape is \(0, 1, 4, 4\)",
        id="jitter-no-images",
    ),
    pytest.param(
        FeatureSpaceAugmenter(),
        np.zeros((6, 0, 4)),
        Y6,
        r"^X must hold at least one sample and one value per sample; its shape is \(6, 0, 4\)",
        id="feature-space-images-of-no-pixel",
    ),
    pytest.param(
        FeatureSpaceAugmenter(),
        np.ones(6),
        Y6,
        "Expected 2D array, got 1D array",
        id="feature-space-1d",
    ),
    pytest.param(
        FeatureSpaceAugmenter(),
        np.ones((6, 1, 2, 2, 2)),
        Y6,
        r"X must have 2 dimensions \(n_samples, n_features\), 3 .* or 4 .*; got 5\.",
        id="feature-space-5d",
    ),
    pytest.param(
        AffineJitterAugmenter(),
        np.ones((6, 1, 1, 4, 4)),
        Y6,
        r"X must have 2 dimensions .*; got 5\.",
        id="jitter-5d",
    ),
    pytest.param(
        FeatureSpaceAugmenter(),
        [[1.0, 2.0], [3.0], [4.0, 5.0], [6.0, 7.0]],
        [0, 0, 1, 1],
        r"X must be an array of numbers of shape \(n_samples, n_features\); .*inhomogeneous",
        id="feature-space-ragged-list",
    ),
    pytest.param(
        AffineJitterAugmenter(image_shape=(3, 3)),
        IMAGES,
        Y6,
        r"image_shape=\(3, 3\) holds 9 values but X has 16 features per sample",
        id="jitter-image-shape-wrong-size",
    ),
    pytest.param(
        AffineJitterAugmenter(image_shape=(2, 8)),
        IMAGES.reshape(6, 4, 4),
        Y6,
        r"image_shape=\(2, 8\) does not match the shape \(4, 4\) of the samples of X",
        id="jitter-image-shape-vs-3d-array",
    ),
    pytest.param(
        VAE(**TINY, image_shape=(1, 2, 8)),
        IMAGES.reshape(6, 1, 4, 4),
        None,
        r"image_shape=\(1, 2, 8\) does not match the shape \(1, 4, 4\) of the samples of X",
        id="vae-image-shape-vs-4d-array",
    ),
    pytest.param(
        AffineJitterAugmenter(image_shape=(4, 4, 1, 1)),
        IMAGES,
        Y6,
        r"image_shape must be \(height, width\) or \(channels, height, width\) with "
        r"positive integers; got \(4, 4, 1, 1\)",
        id="jitter-image-shape-4-numbers",
    ),
    # y
    pytest.param(
        FeatureSpaceAugmenter(),
        X6,
        Y6[:4],
        r"inconsistent numbers of samples: \[6, 4\]",
        id="feature-space-y-too-short",
    ),
    pytest.param(
        AffineJitterAugmenter(),
        IMAGES,
        np.zeros(7),
        r"inconsistent numbers of samples: \[6, 7\]",
        id="jitter-y-too-long",
    ),
    pytest.param(
        FeatureSpaceAugmenter(),
        X6,
        np.zeros(6),
        "needs to have more than 1 class. Got 1 class",
        id="feature-space-single-class",
    ),
    pytest.param(
        AffineJitterAugmenter(),
        IMAGES,
        ["a"] * 6,
        "needs to have more than 1 class. Got 1 class",
        id="jitter-single-class",
    ),
    pytest.param(
        FeatureSpaceAugmenter(),
        X6,
        None,
        "FeatureSpaceAugmenter requires y to be passed, but the target y is None",
        id="feature-space-y-none",
    ),
    pytest.param(
        FeatureSpaceAugmenter(),
        X6,
        np.linspace(0, 1, 6),
        "Unknown label type",
        id="feature-space-y-continuous",
    ),
    pytest.param(
        FeatureSpaceAugmenter(),
        X6,
        np.array([0, 1, np.nan, 0, 1, 0]),
        "Input y contains NaN",
        id="feature-space-y-nan",
    ),
    pytest.param(  # matched no row: the "unlabelled" rows were augmented as a class
        FeatureSpaceAugmenter(unlabeled_label=-1),
        X6,
        np.array(["a", "b", "unknown", "a", "b", "unknown"]),
        r"^unlabeled_label=-1 is a number, but y holds str labels \(dtype <U7\): it would "
        r"match no row\. Give the label of the unlabelled rows as it is in y\.$",
        id="feature-space-unlabelled-int-for-str-labels",
    ),
    pytest.param(
        AffineJitterAugmenter(unlabeled_label="-1"),
        IMAGES,
        np.array([0, 1, -1, 0, 1, -1]),
        r"unlabeled_label='-1' is a str, but y holds numeric labels \(dtype int64\)",
        id="jitter-unlabelled-str-for-int-labels",
    ),
    pytest.param(
        FeatureSpaceAugmenter(unlabeled_label=-1),
        X6,
        np.array(["a", "b", "?", "a", "b", "?"], dtype=object),
        r"unlabeled_label=-1 is a number, but y holds str labels \(dtype object\)",
        id="feature-space-unlabelled-int-for-object-str-labels",
    ),
    # sampling_strategy
    pytest.param(
        FeatureSpaceAugmenter(sampling_strategy={0: 1, 1: 3}),
        X6,
        Y6,
        r"sampling_strategy=\{0: 1, 1: 3\} does not suit y: .*greater or equal to the "
        r"original number of samples\. Originally, there is 3 samples and 1 samples are asked",
        id="feature-space-strategy-fewer-than-present",
    ),
    pytest.param(
        AffineJitterAugmenter(sampling_strategy={0: 2, 1: 5}),
        IMAGES,
        Y6,
        r"sampling_strategy=\{0: 2, 1: 5\} does not suit y: .*there is 3 samples and 2",
        id="jitter-strategy-fewer-than-present",
    ),
    pytest.param(
        FeatureSpaceAugmenter(sampling_strategy={0: 5, 7: 3}),
        X6,
        Y6,
        r"sampling_strategy=\{0: 5, 7: 3\} does not suit y: The \{7\} target class",
        id="feature-space-strategy-unknown-class",
    ),
    pytest.param(
        FeatureSpaceAugmenter(sampling_strategy=0.5),
        X6,
        [0, 0, 1, 1, 2, 2],
        r"sampling_strategy=0\.5 does not suit y: .*float only when the type of target is binary",
        id="feature-space-strategy-float-multiclass",
    ),
    # Parameters
    pytest.param(
        FeatureSpaceAugmenter(method="mixup"),
        X6,
        Y6,
        "'method' parameter",
        id="feature-space-method",
    ),
    pytest.param(
        FeatureSpaceAugmenter(alpha=-1.0), X6, Y6, "'alpha' parameter", id="feature-space-alpha"
    ),
    pytest.param(
        FeatureSpaceAugmenter(k_neighbors=0),
        X6,
        Y6,
        "'k_neighbors' parameter",
        id="feature-space-k-neighbors",
    ),
    pytest.param(
        AffineJitterAugmenter(),
        X6,
        Y6,
        r"X has 3 features, which is not a square single-channel image; pass "
        r"image_shape=\(height, width\) or \(channels, height, width\); this sampler "
        r"transforms images only\.$",
        id="jitter-table",
    ),
    pytest.param(  # one neighbour: the sample itself, so no partner
        FeatureSpaceAugmenter(k_neighbors=NearestNeighbors(n_neighbors=1)),
        X6,
        Y6,
        r"k_neighbors as an estimator must have an integer n_neighbors of at least 2 "
        r"\(it counts the sample itself.*\); NearestNeighbors\(n_neighbors=1\) has "
        r"n_neighbors=1\.",
        id="feature-space-k-neighbors-estimator",
    ),
]


@pytest.mark.parametrize("estimator, X, y, match", ESTIMATOR_CASES)
def test_estimator_refuses_bad_input_clearly_and_changes_nothing(estimator, X, y, match):
    error, match = match if isinstance(match, tuple) else (ValueError, match)
    X_before, y_before = copy.deepcopy(X), copy.deepcopy(y)
    params_before = joblib.hash(estimator.get_params())
    fit = estimator.fit if isinstance(estimator, VAE) else estimator.fit_resample
    with pytest.raises(error, match=match):
        fit(X, y)
    _assert_unchanged(X, X_before)
    _assert_unchanged(y, y_before)
    assert joblib.hash(estimator.get_params()) == params_before


@pytest.fixture(scope="module")
def fitted_vae():
    """A VAE fitted on 6 flat 4x4 images."""
    return VAE(**TINY, image_shape=(4, 4), random_state=0).fit(IMAGES)


# Each case: (make the augmenter from a fitted 4x4 VAE, X, y, expected error).
VAE_AUGMENTER_CASES = [
    pytest.param(
        lambda vae: VAEAugmenter(vae=PCA(2)),
        IMAGES,
        Y6,
        (InvalidParameterError, r"The 'vae' parameter of VAEAugmenter must be an instance of"),
        id="vae-is-a-pca",
    ),
    pytest.param(
        lambda vae: VAEAugmenter(vae=FrozenEstimator(PCA(2).fit(IMAGES))),
        IMAGES,
        Y6,
        (TypeError, r"vae=FrozenEstimator\(\.\.\.\) must wrap a fitted vaeaug VAE; it wraps PCA"),
        id="vae-frozen-pca",
    ),
    pytest.param(
        lambda vae: VAEAugmenter(vae=FrozenEstimator(VAE(**TINY))),
        IMAGES,
        Y6,
        r"wraps a VAE that is not fitted\. Fit it first .* without FrozenEstimator",
        id="vae-frozen-unfitted",
    ),
    pytest.param(
        lambda vae: VAEAugmenter(vae=FrozenEstimator(vae)),
        X6,
        Y6,
        r"X has 3 values per sample but the frozen vae was fitted on 16",
        id="vae-frozen-other-width",
    ),
    pytest.param(
        lambda vae: VAEAugmenter(vae=VAE(latent_dim=0)),
        IMAGES,
        Y6,
        (InvalidParameterError, r"The 'latent_dim' parameter of VAE must be"),
        id="vae-nested-parameter",
    ),
    pytest.param(
        lambda vae: VAEAugmenter(vae=VAE(**TINY, image_shape=(3, 3))),
        IMAGES,
        Y6,
        r"image_shape=\(3, 3\) holds 9 values but X has 16 features per sample",
        id="vae-image-shape-size",
    ),
    pytest.param(
        lambda vae: VAEAugmenter(vae=VAE(**TINY, architecture="dense"), max_rotation=5),
        X6,
        Y6,
        r"max_rotation=5 jitter images, but the VAE treats X as a table",
        id="vae-jitter-of-a-table",
    ),
    pytest.param(
        lambda vae: VAEAugmenter(vae=FrozenEstimator(vae), decoding="sharp"),
        IMAGES,
        Y6,
        (InvalidParameterError, "'decoding' parameter"),
        id="vae-decoding",
    ),
    pytest.param(
        lambda vae: VAEAugmenter(vae=FrozenEstimator(vae), max_rotation=270),
        IMAGES,
        Y6,
        (InvalidParameterError, "'max_rotation' parameter"),
        id="vae-max-rotation",
    ),
    pytest.param(
        lambda vae: VAEAugmenter(vae=FrozenEstimator(vae)),
        np.array([["a"] * 16] * 6, dtype=object),
        Y6,
        r"X must hold real numbers .* holding 'a'",
        id="vae-augmenter-object-strings",
    ),
    pytest.param(
        lambda vae: VAEAugmenter(vae=FrozenEstimator(vae)),
        np.where(np.eye(6, 16) > 0, np.nan, IMAGES),
        Y6,
        "Input X contains NaN",
        id="vae-augmenter-nan",
    ),
    pytest.param(
        lambda vae: VAEAugmenter(vae=FrozenEstimator(vae)),
        IMAGES.reshape(6, 1, 1, 4, 4),
        Y6,
        r"X must have 2 dimensions .* got 5",
        id="vae-augmenter-5d",
    ),
    pytest.param(
        lambda vae: VAEAugmenter(vae=FrozenEstimator(vae)),
        IMAGES,
        np.zeros(6),
        r"needs to have more than 1 class",
        id="vae-augmenter-one-class",
    ),
    pytest.param(
        lambda vae: VAEAugmenter(vae=FrozenEstimator(vae), sampling_strategy={0: 1, 1: 3}),
        IMAGES,
        Y6,
        r"sampling_strategy=\{0: 1, 1: 3\} does not suit y",
        id="vae-augmenter-strategy-fewer-than-present",
    ),
    pytest.param(
        lambda vae: VAEAugmenter(vae=FrozenEstimator(vae)),
        IMAGES,
        Y6[:4],
        r"inconsistent numbers of samples",
        id="vae-augmenter-y-too-short",
    ),
]


@pytest.mark.parametrize("make, X, y, match", VAE_AUGMENTER_CASES)
def test_vae_augmenter_refuses_bad_input_clearly_and_changes_nothing(fitted_vae, make, X, y, match):
    test_estimator_refuses_bad_input_clearly_and_changes_nothing(make(fitted_vae), X, y, match)


@pytest.mark.parametrize("method", ["noise", "interpolation", "extrapolation"])
def test_vae_augmenter_with_a_single_sample_class(fitted_vae, method):
    y = np.array([0, 0, 0, 0, 0, 1])
    sampler = VAEAugmenter(FrozenEstimator(fitted_vae), method=method, random_state=0)
    if method == "noise":
        _, y_res = sampler.fit_resample(IMAGES, y)
        assert np.sum(y_res == 1) == 4
    else:
        # Its samples are latent noise (noise_share), none made by the method.
        with pytest.warns(UserWarning, match=r"Classes \[1\] have a single sample.*noise"):
            _, y_res = sampler.fit_resample(IMAGES, y)
        assert np.sum(y_res == 1) == 4 and np.sum(y_res == 0) == 20
        assert (sampler.neighbor_indices_[y_res == 1] == -1).all()
        with pytest.warns(UserWarning, match=r"Classes \[1\] have a single sample"):
            _, y_res = sampler.set_params(noise_share=0).fit_resample(IMAGES, y)
        assert np.sum(y_res == 1) == 1 and np.sum(y_res == 0) == 20


def test_vae_transform_refuses_what_fit_refuses():
    X = _frame(b=np.arange(6.0) % 2)
    vae = VAE(**TINY, random_state=0).fit(X)
    bad = X.assign(b=pd.Categorical(list("xyxyxy")))
    before = bad.copy()
    with pytest.raises(ValueError, match=r"these columns do not: 'b' \(category\)"):
        vae.transform(bad)
    _assert_unchanged(bad, before)


def test_explicit_jitter_of_a_table_is_refused_before_the_vae_trains(monkeypatch):
    def train(self, X, y=None):
        raise AssertionError("the VAE trained before the refusal")

    monkeypatch.setattr(VAE, "fit", train)
    table = np.random.RandomState(0).poisson(3.0, size=(6, 64)).astype(float)  # 8x8, no image
    for augmenter in (
        VAEAugmenter(vae=VAE(**TINY), max_shift=1),  # architecture="auto" reads it as a table
        VAEAugmenter(vae=VAE(**TINY, architecture="dense"), max_rotation=5),
    ):
        with pytest.raises(ValueError, match=r"jitter images, but the VAE treats X as a table"):
            augmenter.fit_resample(table, Y6)


def test_vae_refuses_values_beyond_float32_instead_of_returning_nan(fitted_vae):
    # Checked in float64, then cast to float32, where they overflowed: all-NaN output.
    table = VAE(**TINY, architecture="dense", random_state=0).fit(X6)
    large = copy.deepcopy(table)
    with torch.no_grad():
        large.module_.decoder[0].weight.fill_(1.0)  # 4 values of 3e38 sum to infinity
    cases = [
        (fitted_vae.inverse_transform, np.full((3, 4), 1e39), r"^Z holds 1e\+39, out of float32's"),
        (
            large.inverse_transform,
            np.array([[0.0] * 4, [3e38] * 4]),
            r"^Row 1 of Z decodes to NaN or infinite values: its values are so far from",
        ),
        (fitted_vae.transform, np.where(np.eye(6, 16) > 0, -1e39, IMAGES), r"X holds -1e\+39"),
        (
            table.transform,
            np.where(np.eye(6, 3) > 0, 1e40, X6),
            r"^X holds 1e\+40 in column 0, which, standardised with the training data's mean 7.5 "
            r"and scale 5.12348, is out of float32's range \(\+-3\.403e\+38\)",
        ),
        (
            # The classifier standardises as the VAE does, and refuses the same way.
            TorchMLPClassifier(max_epochs=1, random_state=0).fit(X6, Y6).predict_proba,
            np.where(np.eye(6, 3) > 0, 1e40, X6),
            r"^X holds 1e\+40 in column 0, which, standardised with the training data's mean",
        ),
    ]
    for method, values, match in cases:
        before = values.copy()
        with pytest.raises(ValueError, match=match):
            method(values)
        _assert_unchanged(values, before)


# ------------------------------------------------------------- accepted dtypes


def test_uint8_interpolation_does_not_wrap_around():
    X = np.array([[10], [12], [14], [200], [210], [220]], dtype=np.uint8)
    X_before = X.copy()
    sampler = FeatureSpaceAugmenter(k_neighbors=1, n_per_sample=1, alpha=0.5, random_state=0)
    X_res, _ = sampler.fit_resample(X, Y6)
    _assert_unchanged(X, X_before)
    assert X_res.dtype == np.uint8
    np.testing.assert_array_equal(X_res[:6], X)
    # 10 <-> 12 and 12 <-> 10 or 14 meet half way: 11 or 13; 139 if uint8 wrapped around.
    assert set(X_res[6:9, 0]) <= {11, 13}
    assert set(X_res[9:, 0]) <= {205, 215}


def test_uint8_noise_is_not_truncated():
    X = np.full((40, 1), 100, dtype=np.uint8)
    X[::2] = 120  # standard deviation 10
    y = np.repeat([0, 1], 20)
    X_res, _ = FeatureSpaceAugmenter(method="noise", alpha=1.0, random_state=0).fit_resample(X, y)
    change = X_res[40:, 0].astype(int) - np.repeat(X[:, 0].astype(int), 3)
    # Noise truncated to uint8 moves by multiples of 10, and by about 255 when negative.
    assert np.abs(change).max() < 60
    assert change.min() < 0 < change.max() and np.any(change % 10 != 0)


@pytest.mark.parametrize(
    "dtype, out_dtype",
    [
        (np.uint8, np.uint8),
        (np.int64, np.int64),
        (bool, bool),
        (np.float16, np.float16),
        (object, np.float64),
    ],
)
@pytest.mark.parametrize("method", ["interpolation", "extrapolation", "noise"])
def test_latent_augmenter_accepts_dtype_and_rounds_integers(dtype, out_dtype, method):
    X_float = np.random.RandomState(0).randint(0, 2 if dtype is bool else 250, (12, 3))
    X = X_float.astype(dtype)
    X_before = X.copy()
    params = dict(method=method, alpha=0.4, random_state=0)
    X_res, y_res = FeatureSpaceAugmenter(**params).fit_resample(X, Y6.repeat(2))
    reference, _ = FeatureSpaceAugmenter(**params).fit_resample(X_float.astype(float), Y6.repeat(2))
    _assert_unchanged(X, X_before)
    assert X_res.dtype == out_dtype
    np.testing.assert_array_equal(X_res[:12], X)
    expected = reference[12:]
    if np.dtype(dtype).kind in "iub":
        low, high = (0, 1) if dtype is bool else (np.iinfo(dtype).min, np.iinfo(dtype).max)
        expected = np.clip(np.rint(expected), low, high)
    if dtype is np.float16:  # the noise scale is the float16 data's standard deviation
        np.testing.assert_allclose(X_res[12:].astype(float), expected, rtol=2e-3, atol=0.1)
    else:
        np.testing.assert_array_equal(X_res[12:], expected.astype(out_dtype))


def test_data_frame_integer_columns_are_rounded_not_truncated():
    X = pd.DataFrame({"count": [0, 1, 2, 10, 11, 13], "size": np.linspace(0, 1, 6)})
    before = X.copy()
    params = dict(k_neighbors=2, alpha=0.3, random_state=0)
    X_res, _ = FeatureSpaceAugmenter(**params).fit_resample(X, Y6)
    reference, _ = FeatureSpaceAugmenter(**params).fit_resample(X.to_numpy(float), Y6)
    _assert_unchanged(X, before)
    assert X_res.dtypes.tolist() == X.dtypes.tolist()
    np.testing.assert_array_equal(X_res["count"], np.rint(reference[:, 0]))
    np.testing.assert_array_equal(X_res["size"], reference[:, 1])


def test_affine_jitter_of_boolean_images_rounds():
    X = np.random.RandomState(0).rand(6, 16) > 0.5
    X_res, _ = AffineJitterAugmenter(random_state=0).fit_resample(X, Y6)
    reference, _ = AffineJitterAugmenter(random_state=0).fit_resample(X.astype(float), Y6)
    assert X_res.dtype == bool
    np.testing.assert_array_equal(X_res, np.rint(reference).astype(bool))


@pytest.mark.parametrize(
    "X",
    [
        np.eye(12, 5, dtype=bool),
        np.eye(12, 5).astype(object),
        (np.arange(60).reshape(12, 5) * 500).astype(np.float16),  # squares overflow float16
    ],
    ids=["bool", "object", "float16"],
)
def test_vae_accepts_boolean_object_and_float16_tables(X):
    vae = VAE(**TINY, random_state=0).fit(X)
    assert isinstance(vae.module_, DenseVAE)
    assert np.all(np.isfinite(vae.scale_))
    Z = vae.transform(X)
    assert Z.shape == (12, FAST["latent_dim"]) and Z.dtype == np.float64
    assert np.all(np.isfinite(Z))


@pytest.mark.parametrize("method", ["noise", "interpolation", "extrapolation"])
def test_single_sample_class_with_every_method(method):
    X, y = X6, np.array([0, 0, 0, 0, 0, 1])
    sampler = FeatureSpaceAugmenter(method=method, n_per_sample=2, random_state=0)
    if method == "noise":  # needs no neighbour: the lone sample gets its share
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            _, y_res = sampler.fit_resample(X, y)
        assert np.sum(y_res == 1) == 3
    else:
        with pytest.warns(UserWarning, match=r"Classes \[1\] have a single sample"):
            _, y_res = sampler.fit_resample(X, y)
        assert np.sum(y_res == 1) == 1
        assert np.sum(y_res == 0) == 15


def test_n_per_sample_ignored_by_a_sampling_strategy_is_announced():
    y = np.array([0, 0, 0, 0, 1, 1])
    with pytest.warns(UserWarning, match=r"n_per_sample=5 is not used: sampling_strategy='auto'"):
        _, y_res = FeatureSpaceAugmenter(n_per_sample=5, sampling_strategy="auto").fit_resample(
            X6, y
        )
    assert np.bincount(y_res).tolist() == [4, 4]  # the strategy decides
    with warnings.catch_warnings():  # left at its default, nothing to say
        warnings.simplefilter("error")
        AffineJitterAugmenter(sampling_strategy="minority").fit_resample(IMAGES, y)


# ------------------------------------------------------------ tables or images

COUNTS = np.random.RandomState(0).poisson(3, (20, 100))
DIGITS = load_digits().data[:100]
PERMUTATION = np.random.RandomState(0).permutation(64)
#: Smooth non-negative 1-D signals of 784 values, like spectra.
SPECTRA = np.abs(
    scipy.ndimage.gaussian_filter1d(np.random.RandomState(0).normal(size=(50, 784)), 5, axis=1)
)


@pytest.mark.parametrize(
    "X, image_shape, architecture, expected",
    [
        (np.zeros((5, 8, 8)), None, "auto", (1, 8, 8)),
        (np.zeros((5, 3, 4, 5)), None, "auto", (3, 4, 5)),
        (np.zeros((5, 64)), (8, 8), "auto", (1, 8, 8)),
        (np.zeros((5, 60)), (3, 4, 5), "auto", (3, 4, 5)),
        (np.zeros((5, 49)), None, "conv", (1, 7, 7)),
        (np.zeros((5, 64)), None, "dense", None),
        (np.zeros((5, 8, 8)), None, "dense", None),
        (COUNTS[:, :49], None, "auto", None),  # 7x7: too small to be inferred
        (COUNTS[:, :99], None, "auto", None),  # not a square
        (pd.DataFrame(COUNTS), None, "auto", None),  # data frames are tables
        (COUNTS - 3, None, "auto", None),  # negative values: a table
        (-np.ones((5, 784)), None, "auto", None),
        (COUNTS[:, :64], None, "auto", None),  # a square width alone: a table
        (np.zeros((5, 784)), None, "auto", None),
        (SPECTRA, None, "auto", None),  # ordered columns that correlate along one axis only
        (DIGITS[:, PERMUTATION], None, "auto", None),  # pixels shuffled: no image's structure
    ],
    ids=[
        "3d",
        "4d",
        "image-shape",
        "image-shape-channels",
        "conv",
        "dense",
        "dense-3d",
        "auto-49",
        "auto-99",
        "auto-frame",
        "auto-negative",
        "auto-negative-784",
        "auto-counts-64",
        "auto-constant-784",
        "auto-spectra",
        "auto-shuffled-pixels",
    ],
)
def test_images_are_what_the_user_said(X, image_shape, architecture, expected):
    sample_shape = X.shape[1:] if np.ndim(X) > 2 else None
    rows = np.asarray(X).reshape(len(X), -1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        layout = decide_layout(
            rows,
            sample_shape,
            image_shape=image_shape,
            architecture=architecture,
            tabular=hasattr(X, "columns"),
        )
    assert layout.image_shape == expected
    assert layout.sample_shape == (sample_shape or (rows.shape[1],))


@pytest.mark.parametrize(
    "X, side",
    [(DIGITS, 8), (np.kron(DIGITS[:20].reshape(-1, 8, 8), np.ones((1, 4, 4))).reshape(20, -1), 32)],
    ids=["digits", "digits-32x32"],
)
def test_flat_rows_with_an_images_pixels_are_read_as_images_with_a_warning(X, side):
    message = (
        rf"X has {side * side} features per sample whose neighbouring values correlate as an "
        rf"image's pixels do, so it is read as {side}x{side} single-channel images "
        r"\(architecture='auto'\), with the default rotations and shifts\. Pass "
        rf"image_shape=\({side}, {side}\), or X of shape \(n_samples, {side}, {side}\), to "
        r"declare them; use architecture='dense' if X is a table\."
    )
    with pytest.warns(UserWarning, match=message):
        layout = decide_layout(X, None, image_shape=None, architecture="auto")
    assert layout.image_shape == (1, side, side)
    assert resolve_jitter("auto", "auto", layout)[0] == 10.0


def test_has_pixel_structure_reads_few_rows_of_a_large_array():
    class Reader:
        """Rows read by index, counted."""

        shape = (100_000, 64)

        def __len__(self):
            return self.shape[0]

        def __getitem__(self, rows):
            self.read = len(rows)
            return np.tile(DIGITS, (1 + len(rows) // len(DIGITS), 1))[: len(rows)]

    reader = Reader()
    assert has_pixel_structure(reader, 8) and reader.read == 1_000


def test_a_count_table_is_a_table_unless_told():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "read as 10x10 images"
        vae = VAE(**TINY, random_state=0).fit(COUNTS)
        augmenter = VAEAugmenter(VAE(**TINY), random_state=0).fit(COUNTS, np.arange(20) % 2)
    assert vae.layout_.image_shape is None and isinstance(vae.module_, DenseVAE)
    assert (augmenter.max_rotation_, augmenter.max_shift_) == (0.0, 0.0)
    told = VAE(**TINY, architecture="conv", random_state=0).fit(COUNTS)
    assert isinstance(told.module_, ConvVAE)


def test_digits_given_flat_are_announced_and_confirmed_by_image_shape(digits):
    X = digits[0][:40]
    with pytest.warns(UserWarning, match=r"read as 8x8 .* Pass image_shape=\(8, 8\)"):
        recognised = VAE(**TINY, random_state=0).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for vae in [
            VAE(**TINY, image_shape=(8, 8), random_state=0).fit(X),
            VAE(**TINY, random_state=0).fit(X.reshape(-1, 8, 8)),
        ]:
            assert vae.layout_.image_shape == recognised.layout_.image_shape == (1, 8, 8)


# ------------------------------------------------------------------- loaders

MNIST_NAMES = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]


def _write_mnist(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in MNIST_NAMES:
        shape = (2, 28, 28) if "images" in name else (2,)
        header = np.array([2051 if "images" in name else 2049, *shape], dtype=">u4")
        (folder / name).write_bytes(gzip.compress(header.tobytes() + bytes(int(np.prod(shape)))))


def _truncated_mnist(home, monkeypatch):
    _write_mnist(home / "mnist")
    path = home / "mnist" / MNIST_NAMES[0]
    path.write_bytes(path.read_bytes()[:-20])
    return lambda: load_mnist(home, verify=False, download_if_missing=False)


def _mnist_of_another_version(home, monkeypatch):
    _write_mnist(home / "mnist")
    return lambda: load_mnist(home, download_if_missing=False)


def _garbage(home, name):
    home.mkdir(parents=True, exist_ok=True)
    (home / name).write_bytes(bytes(range(256)) * 4)


def _garbage_ujipen_v1(home, monkeypatch):
    for writer in range(1, 12):
        _garbage(home / "ujipen" / "v1", f"UJIpenchars-w{writer:02d}")
    return lambda: load_ujipen_v1(home, verify=False, download_if_missing=False)


def _garbage_ujipen_v2(home, monkeypatch):
    _garbage(home / "ujipen" / "v2", "ujipenchars2.txt")
    return lambda: load_ujipen(home, verify=False, download_if_missing=False)


def _garbage_digits(home, monkeypatch):
    _garbage(home / "ujipen" / "v2_digits_subset", "ujipenchars2_digits.json")
    return lambda: load_ujipen_v2_digits(home, verify=False)


def _corrupt_archive(home, monkeypatch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ujipenchars2.txt", "WORD a trn_UJI_W01-01\n" * 200)
    content = bytearray(buffer.getvalue())
    content[40:60] = bytes(20)  # inside the compressed member
    (home / "ujipen").mkdir(parents=True)
    (home / "ujipen" / "uji+pen+characters+version+2.zip").write_bytes(bytes(content))
    return lambda: load_ujipen(home, verify=False, download_if_missing=False)


def _missing_home(home, monkeypatch):
    return lambda: load_mnist(home / "nowhere", download_if_missing=False)


def _missing_home_offline(home, monkeypatch):
    return lambda: load_mnist(home / "nowhere")


def _file_as_home(home, monkeypatch):
    home.mkdir()
    (home / "file.txt").write_text("not a folder")
    return lambda: load_mnist(home / "file.txt")


def _unreadable_files(home, monkeypatch):
    _write_mnist(home / "mnist")
    real_open = open

    def refuse_under_home(file, *args, **kwargs):
        if isinstance(file, (str, os.PathLike)) and Path(file).is_relative_to(home):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", refuse_under_home)
    return lambda: load_mnist(home, download_if_missing=False)


def _unreadable_folder(home, monkeypatch):
    _write_mnist(home / "mnist")
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: Path(path) != home / "mnist" and real_access(path, mode)
    )
    return lambda: load_mnist(home, download_if_missing=False)


LOADER_CASES = [
    pytest.param(
        _truncated_mnist,
        ValueError,
        r"mnist/train-images-idx3-ubyte\.gz is not a valid gzip file \(.*\): it is truncated "
        r"or corrupted; delete it",
        id="mnist-truncated",
    ),
    pytest.param(
        _mnist_of_another_version,
        OSError,
        r"Checksum mismatch for .*mnist/train-images-idx3-ubyte\.gz: expected SHA-256 "
        r"440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609, got [0-9a-f]{64}\.",
        id="mnist-checksum",
    ),
    pytest.param(
        _garbage_ujipen_v1,
        ValueError,
        r"v1/UJIpenchars-w01 is not a text file in ascii \(byte 128: .*\): it is corrupted",
        id="ujipen-v1-binary",
    ),
    pytest.param(
        _garbage_ujipen_v2,
        ValueError,
        r"v2/ujipenchars2\.txt is not a text file in utf-8 \(byte 128: invalid start byte\)",
        id="ujipen-v2-binary",
    ),
    pytest.param(
        _garbage_digits,
        ValueError,
        r"ujipenchars2_digits\.json is not a JSON object with a 'rawData' object of digits "
        r"\(UnicodeDecodeError: 'utf-8' codec can't decode byte 0x80 in position 128",
        id="ujipen-digits-binary",
    ),
    pytest.param(
        _corrupt_archive,
        OSError,
        r"uji\+pen\+characters\+version\+2\.zip is not a valid zip file \(.*\); delete it",
        id="ujipen-corrupt-archive",
    ),
    pytest.param(
        _missing_home,
        OSError,
        r"Files not found in .*nowhere/mnist: train-images-idx3-ubyte\.gz, .*\. Copy them "
        r"there, or pass download_if_missing=True",
        id="data-home-missing",
    ),
    pytest.param(
        _missing_home_offline,
        OSError,
        r"Could not download train-images-idx3-ubyte\.gz to .*nowhere/mnist:\n  https://.*: "
        r".*no route to host(.|\n)*\nWithout internet, copy train-images-idx3-ubyte\.gz into "
        r".*nowhere/mnist from any machine that has it, or pass the folder that holds it as "
        r"data_home \(--data-home\)\.$",
        id="data-home-missing-offline",
    ),
    pytest.param(
        _file_as_home,
        NotADirectoryError,
        r"data_home .*file\.txt is a file, not a folder",
        id="data-home-is-a-file",
    ),
    pytest.param(
        _unreadable_files,
        PermissionError,
        r"Permission denied for .*mnist/train-images-idx3-ubyte\.gz: the dataset files and "
        r"the folders that hold them must be readable by this user",
        id="files-unreadable",
    ),
    pytest.param(
        _unreadable_folder,
        PermissionError,
        r"Permission denied for .*/mnist: the dataset files and the folders",
        id="folder-unreadable",
    ),
]


def _snapshot(folder: Path) -> dict:
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def offline(monkeypatch):
    def urlopen(url, timeout=None):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)


@pytest.mark.parametrize("setup, error, match", LOADER_CASES)
def test_loader_refuses_bad_files_clearly_and_changes_nothing(
    tmp_path, monkeypatch, offline, setup, error, match
):
    home = tmp_path / "data"
    load = setup(home, monkeypatch)
    before = _snapshot(tmp_path)
    with pytest.raises(error, match=match):
        load()
    monkeypatch.undo()  # reads and permissions back to normal
    assert _snapshot(tmp_path) == before
    assert not (home / "nowhere").exists()


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root reads folders whatever their permissions",
)
def test_folder_without_permissions(tmp_path):
    _write_mnist(tmp_path / "mnist")
    (tmp_path / "mnist").chmod(0)
    try:
        with pytest.raises(PermissionError, match=r"Permission denied for .*mnist"):
            load_mnist(tmp_path, download_if_missing=False)
    finally:
        (tmp_path / "mnist").chmod(0o755)


# ------------------------------------------------------------- command line


@pytest.mark.parametrize(
    "arguments, code, match",
    [
        (["reproduce", "mnist-restrict"], 2, r"invalid choice: 'mnist-restrict' \(choose from "),
        (["augment"], 2, r"invalid choice: 'augment' \(choose from 'demo', 'reproduce'"),
        (
            ["reproduce", "mnist-restricted", "--data-home", "{home}/nowhere", "--out", "{out}"],
            1,
            r"vaeaug: error: Could not download train-images-idx3-ubyte\.gz to .*/nowhere/mnist",
        ),
        (
            ["reproduce", "mnist-restricted", "--data-home", "{home}/file.txt", "--out", "{out}"],
            1,
            r"vaeaug: error: data_home .*/file\.txt is a file, not a folder",
        ),
        (
            ["reproduce", "mnist-full", "--data-home", "{home}", "--out", "{out}"],
            1,
            r"vaeaug: error: Checksum mismatch for .*/mnist/train-images-idx3-ubyte\.gz",
        ),
        (
            ["demo", "--out", "{home}/file.txt"],
            1,
            r"vaeaug: error: --out .*/file\.txt: cannot create the output folder \(a file is "
            r"in the way\)\.",
        ),
    ],
    ids=[
        "unknown-protocol",
        "unknown-command",
        "missing-data-home",
        "file-data-home",
        "corrupt",
        "file-as-out",
    ],
)
def test_cli_refuses_bad_arguments_clearly_and_changes_nothing(
    tmp_path, capsys, offline, arguments, code, match
):
    home, out = tmp_path / "data", tmp_path / "out"
    _write_mnist(home / "mnist")
    (home / "file.txt").write_text("not a folder")
    before = _snapshot(tmp_path)
    try:
        returned = main([a.format(home=home, out=out) for a in arguments])
    except SystemExit as exit_info:  # argparse's errors
        returned = exit_info.code
    assert returned == code
    assert re.search(match, capsys.readouterr().err)
    assert _snapshot(tmp_path) == before
    assert not (home / "nowhere").exists()


# ----------------------------------------------------------------- environment


def test_import_without_docstrings():
    result = subprocess.run(
        [sys.executable, "-OO", "-c", "import vaeaug; assert vaeaug.VAE.__doc__ is None"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
