"""Generation variants measured for "Beyond the paper" that did not earn a place in vaeaug.

Each variant makes ``--n-per-sample`` new images per labelled original of a
protocol and is scored, with the classifiers of ``vaeaug reproduce``, on the
protocol's validation set (settings are chosen there, never on the test set).
The references ``vae default`` (``VAEAugmenter()``: interpolation, then affine
jitter) and ``jitter`` (the competing augmenter) run in the same process.
Every VAE variant interpolates half-way towards each of the 3 nearest
same-class neighbours in the latent space, as ``VAEAugmenter`` does; what
changes is written next to it in ``VARIANTS``.

    python docs/results/generation_ablations.py mnist-restricted --data-home ../shared/data \
        --seeds 0 1 2 --vae-seed 0 --cache-dir ~/.cache/vaeaug --out docs/results \
        --name beyond-mnist-validation-ablations

The cache holds pickles, which run code when loaded: keep it in a private
folder, never in a shared one such as /tmp, and never use an untrusted cache.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from sklearn.frozen import FrozenEstimator
from sklearn.neighbors import NearestNeighbors
from sklearn.utils.validation import check_memory
from torch.nn import functional as F

from vaeaug import VAEAugmenter
from vaeaug.experiments import PROTOCOLS, make_classifier, make_competitor
from vaeaug.generators import find_neighbors, interpolate, pair_with_neighbors
from vaeaug.jitter import MAX_ROTATION, MAX_SHIFT, affine_jitter, draw_jitter
from vaeaug.report import markdown_table, write_results
from vaeaug.vae import VAE, fit_vae

VARIANTS = {
    "vae default": "VAEAugmenter() as it is (reference)",
    "jitter": "affine jitter of the originals (reference)",
    "sharpened": "decoded Bernoulli means sharpened, sigmoid(logit(p) / 0.5), then jitter",
    "half jitter": "each new image is, with probability 1/2, a jittered original instead",
    "uniform alpha": "interpolation with alpha ~ U(0, 1) per new image, then jitter",
    "class noise": "z + 0.5 e, e ~ N(0, within-class covariance of the latents), then jitter",
    "vae on jittered": (
        "the VAE trains on jittered copies of the unlabelled images (copies of an image may "
        "fall on both sides of its early-stopping split); then default"
    ),
    "vae-guided warp": "the original, warped as D(z) warps onto D(z') (sharp strokes), then jitter",
}


def jitter(images, random_state):
    """Affine jitter with ``VAEAugmenter``'s bounds for images of at least 28 pixels."""
    angles, shifts = draw_jitter(len(images), MAX_ROTATION, MAX_SHIFT, random_state)
    return affine_jitter(images[:, None], angles, shifts)[:, 0]


def sharpen(p, temperature):
    """Bernoulli means with their logits divided by ``temperature``."""
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return 1 / (1 + np.exp(-np.log(p / (1 - p)) / temperature))


def class_noise(Z, y, base, scale, random_state):
    """``Z[base]`` plus Gaussian noise with each class's latent covariance times ``scale**2``."""
    Z_new = Z[base].copy()
    for label in np.unique(y):
        rows = y[base] == label
        covariance = np.cov(Z[y == label].T) + 1e-6 * np.eye(Z.shape[1])
        noise = random_state.standard_normal((rows.sum(), Z.shape[1]))
        Z_new[rows] += scale * noise @ np.linalg.cholesky(covariance).T
    return Z_new.astype(Z.dtype)


def fit_warp(source, target, grid_size=7, steps=100, learning_rate=0.1):
    """Sampling grids of smooth warps taking each ``source`` image to its ``target``.

    A displacement field on a ``grid_size`` square grid, upsampled bicubically
    to the image, fitted by Adam to the squared error; for ``grid_sample``.
    """
    n, _, height, width = source.shape
    identity = F.affine_grid(torch.eye(2, 3).expand(n, 2, 3), [n, 1, height, width], False)
    displacement = torch.zeros(n, 2, grid_size, grid_size, requires_grad=True)
    optimizer = torch.optim.Adam([displacement], lr=learning_rate)

    def grid():
        field = F.interpolate(displacement, (height, width), mode="bicubic", align_corners=True)
        return identity + field.permute(0, 2, 3, 1)

    for _ in range(steps):
        optimizer.zero_grad()
        warped = F.grid_sample(source, grid(), align_corners=False)
        ((warped - target) ** 2).sum().backward()
        optimizer.step()
    with torch.no_grad():
        return grid()


def augment(variant, data, vae, n_per_sample, seed):
    """Training set ``(X, y)``: the originals, then the new images of ``variant``."""
    X, y = data.X_train, data.y_train
    if variant in ("vae default", "vae on jittered"):
        augmenter = VAEAugmenter(FrozenEstimator(vae), n_per_sample=n_per_sample, random_state=seed)
        return augmenter.fit_resample(X, y)
    if variant == "jitter":
        return make_competitor("jitter", data.image_shape, seed, n_per_sample).fit_resample(X, y)
    random_state = np.random.RandomState(seed)
    Z = vae.transform(X.reshape(-1, *data.image_shape))
    neighbors = find_neighbors(Z, y, NearestNeighbors(n_neighbors=4))
    base, partner = pair_with_neighbors(neighbors, np.full(len(Z), n_per_sample))
    if variant == "uniform alpha":
        alpha = random_state.uniform(0, 1, (len(base), 1)).astype(Z.dtype)
        Z_new = interpolate(Z[base], Z[partner], alpha=alpha)
    elif variant == "class noise":
        Z_new = class_noise(Z, y, base, 0.5, random_state)
    else:
        Z_new = interpolate(Z[base], Z[partner], alpha=0.5)
    images = vae.inverse_transform(Z_new)
    if variant == "vae-guided warp":
        originals = torch.from_numpy(X[base].reshape(-1, 1, *data.image_shape))
        decoded = torch.from_numpy(vae.inverse_transform(Z[base]).astype(np.float32))
        grid = fit_warp(decoded[:, None], torch.from_numpy(images.astype(np.float32))[:, None])
        images = F.grid_sample(originals, grid, align_corners=False)[:, 0].numpy()
    elif variant == "sharpened":
        images = sharpen(images, 0.5)
    elif variant == "half jitter":
        originals = random_state.rand(len(base)) < 0.5
        images[originals] = X[base[originals]].reshape(-1, *data.image_shape)
    new = jitter(images.astype(np.float32), random_state).reshape(len(base), -1)
    return np.vstack([X, new]), np.concatenate([y, y[base]])


def train_vae(data, latent_dim, seed, vae_params, memory, jitter_copies=0):
    """The protocol's VAE, or one trained on ``jitter_copies`` jittered copies of each image."""
    images = data.X_unlabelled.reshape(-1, *data.image_shape)
    if jitter_copies:
        images = jitter(np.repeat(images, jitter_copies, axis=0), np.random.RandomState(seed))
    vae = VAE(latent_dim, random_state=seed, **vae_params)
    return check_memory(memory).cache(fit_vae)(vae, images)


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("protocol", choices=sorted(PROTOCOLS))
    args.add_argument("--data-home")
    args.add_argument("--seeds", type=int, nargs="+", default=[0])
    args.add_argument("--vae-seed", type=int, help="one VAE for all seeds (default: per seed)")
    args.add_argument("--latent-dim", type=int, default=20)
    args.add_argument("--n-per-sample", type=int, default=3)
    args.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    args.add_argument("--classifiers", nargs="+", default=["svm", "knn", "sklearn-mlp"])
    args.add_argument(
        "--jitter-copies", type=int, default=1, help="jittered copies per image, 'vae on jittered'"
    )
    args.add_argument(
        "--cache-dir",
        help="joblib cache of trained VAEs, in a private folder such as ~/.cache/vaeaug "
        "(it holds pickles: never a shared folder like /tmp, never an untrusted cache)",
    )
    args.add_argument("--out", help="folder for <name>.csv and <name>.md (default: print only)")
    args.add_argument("--name", default="beyond-ablations", help="file name of the results")
    args = args.parse_args()
    protocol = PROTOCOLS[args.protocol]
    rows = []
    for seed in args.seeds:
        data = protocol.load(args.data_home, seed)
        vae_seed = seed if args.vae_seed is None else args.vae_seed
        vaes = {}
        for variant in args.variants:
            copies = args.jitter_copies if variant == "vae on jittered" else 0
            if variant != "jitter" and copies not in vaes:
                vaes[copies] = train_vae(
                    data, args.latent_dim, vae_seed, protocol.vae_params, args.cache_dir, copies
                )
            vae = vaes.get(copies) if variant != "jitter" else None
            started = time.perf_counter()
            X, y = augment(variant, data, vae, args.n_per_sample, seed)
            augment_seconds = time.perf_counter() - started
            for name in args.classifiers:
                started = time.perf_counter()
                classifier = make_classifier(name, seed).fit(X, y)
                fitted = time.perf_counter()
                accuracy = 100 * float(np.mean(classifier.predict(data.X_val) == data.y_val))
                rows.append(
                    dict(
                        protocol=protocol.name,
                        seed=seed,
                        augmenter=variant,
                        latent_dim=None if vae is None else args.latent_dim,
                        method=None,
                        classifier=name,
                        accuracy=accuracy,
                        n_train=len(X),
                        vae_seconds=None
                        if vae is None
                        else sum(record["duration"] for record in vae.history_),
                        augment_seconds=augment_seconds,
                        fit_seconds=fitted - started,
                        score_seconds=time.perf_counter() - fitted,
                    )
                )
                print(f"seed {seed}  {variant:<16} {name:<11} {accuracy:6.2f} %", flush=True)
    print(markdown_table(rows))
    if args.out:
        write_results(rows, args.out, args.name, scored_on="validation")


if __name__ == "__main__":
    main()
