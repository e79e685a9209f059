"""Screening of issue 20's class-conditional lever on the validation sides
(docs/results.md, "A class-conditional VAE (screened)"). Not part of the library.

    python docs/results/screen_conditional.py PROTOCOL POOL SEEDS VARIANTS OUT [CLASSIFIERS [test]]

A semi-supervised conditional VAE (Kingma et al. 2014, "M2"): the encoder
gives ``q(z | x, y)``, the decoder ``p(x | z, y)`` and a classifier
``q(y | x)``; labelled images train all three with their label, unlabelled
ones (``POOL`` of them drawn per seed from the protocol's unlabelled images,
``0`` for none: a conditional VAE of the labelled images alone; ``10000z8``:
a latent size of 8 instead of 20) with the
ELBO averaged over ``q(y | x)``. Samples are made as the library's default
(``noise_share=0.5``, ``noise_alpha=0.25``, interpolation half-way towards
one of the 3 nearest, residual decoding, 10 degrees and 2 pixels of
jitter), with the latent vectors and decodings conditioned on the base's
label. ``VARIANTS`` is a JSON object ``name -> {"partners": ...}``:
``"class"`` (the 3 nearest labelled classmates, as the library),
``"any"`` (the 3 nearest labelled images of any class, decoded in the base's
class: its content in their style) or ``"pool"`` (the 3 nearest pool images,
encoded under their most likely class, likewise); ``"detail"``: ``"moved"``
(the residual detail moves towards the partner's, as the library) or
``"base"`` (the base's detail only, scaled by ``1 - step``). Scored as
screen_levers.py scores, with its competitors.
"""

import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from screen_levers import score_sets
from sklearn.neighbors import NearestNeighbors
from torch import nn
from torch.nn import functional as F

from vaeaug.engine.image import affine_jitter, draw_jitter
from vaeaug.paper.experiments.protocols import PROTOCOLS


class ConditionalVAE(nn.Module):
    """The paper's conv VAE with the label fed to the latent heads and the decoder, and a
    convolutional classifier q(y | x)."""

    def __init__(self, n_classes, latent_dim=20, hidden=1024):
        super().__init__()
        self.n_classes = n_classes
        self.trunk = nn.Sequential(
            nn.Conv2d(1, 16, 5, 2, 2), nn.ReLU(), nn.Conv2d(16, 8, 5, 2, 2), nn.ReLU(),
            nn.Flatten(), nn.Linear(8 * 7 * 7, hidden), nn.ReLU(),
        )  # fmt: skip
        self.mean = nn.Linear(hidden + n_classes, latent_dim)
        self.log_var = nn.Linear(hidden + n_classes, latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim + n_classes, hidden), nn.ReLU(),
            nn.Linear(hidden, 8 * 7 * 7), nn.ReLU(), nn.Unflatten(1, (8, 7, 7)),
            nn.ConvTranspose2d(8, 16, 5, 2, 2, 1), nn.ReLU(),
            nn.ConvTranspose2d(16, 1, 5, 2, 2, 1),
        )  # fmt: skip
        self.classifier = nn.Sequential(
            nn.Conv2d(1, 32, 5, 2, 2), nn.ReLU(), nn.Conv2d(32, 64, 5, 2, 2), nn.ReLU(),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 256), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(256, n_classes),
        )  # fmt: skip

    def encode(self, x, onehot):
        h = torch.cat([self.trunk(x), onehot], 1)
        return self.mean(h), self.log_var(h)

    def decode(self, z, onehot):
        return self.decoder(torch.cat([z, onehot], 1))

    def elbo_loss(self, x, onehot):
        """Negative ELBO of each image under its (given or supposed) label, in nats."""
        mean, log_var = self.encode(x, onehot)
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * log_var)
        logits = self.decode(z, onehot)
        nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
        return nll - 0.5 * (1 + log_var - mean.pow(2) - log_var.exp()).sum(1)


def fit_conditional_vae(
    X_lab, y_lab, X_pool, n_classes, seed, epochs, latent_dim=20, class_weight=50.0
):
    """Train M2 (the unlabelled term only when ``X_pool`` has rows); returns the module."""
    torch.manual_seed(seed)
    rng = np.random.RandomState(seed)
    model = ConditionalVAE(n_classes, latent_dim)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    X_lab_t = torch.from_numpy(X_lab.reshape(-1, 1, 28, 28))
    y_lab_t = torch.from_numpy(y_lab.astype(np.int64))
    X_pool_t = torch.from_numpy(X_pool.reshape(-1, 1, 28, 28))
    eye = torch.eye(n_classes)
    steps = max(len(X_pool), len(X_lab)) // 128
    for _ in range(epochs):
        for _ in range(steps):
            rows = torch.from_numpy(rng.randint(len(X_lab), size=64))
            x, y = X_lab_t[rows], y_lab_t[rows]
            loss = model.elbo_loss(x, eye[y]).mean()
            loss = loss + class_weight * F.cross_entropy(model.classifier(x), y)
            if len(X_pool):
                xu = X_pool_t[torch.from_numpy(rng.randint(len(X_pool), size=128))]
                q = F.softmax(model.classifier(xu), 1)
                # Each image's ELBO under every label, weighted by q(y | x), minus its entropy.
                repeated = xu.repeat_interleave(n_classes, 0)
                labels = eye.repeat(len(xu), 1)
                per_label = model.elbo_loss(repeated, labels).view(len(xu), n_classes)
                entropy = -(q * torch.log(q + 1e-8)).sum(1)
                loss = loss + ((q * per_label).sum(1) - entropy).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


@torch.no_grad()
def encode(model, X, labels):
    x = torch.from_numpy(X.reshape(-1, 1, 28, 28))
    return model.encode(x, torch.eye(model.n_classes)[torch.from_numpy(labels)])[0].numpy()


@torch.no_grad()
def decode(model, Z, labels):
    onehot = torch.eye(model.n_classes)[torch.from_numpy(labels)]
    return torch.sigmoid(model.decode(torch.from_numpy(Z), onehot)).flatten(1).numpy()


@torch.no_grad()
def guess(model, X):
    return model.classifier(torch.from_numpy(X.reshape(-1, 1, 28, 28))).argmax(1).numpy()


def augment(model, X, y, pool, partners, detail, seed, n_per_sample=3):
    """The library's default recipe in the conditional latent space; returns (X_res, y_res)."""
    rng = np.random.RandomState(seed)
    classes = np.unique(y)
    labels = np.searchsorted(classes, y)
    Z = encode(model, X, labels)
    residual = X - decode(model, Z, labels)
    if partners == "pool":
        pool_labels = guess(model, pool)
        Z_partners = encode(model, pool, pool_labels)
        residual_partners = pool - decode(model, Z_partners, pool_labels)
        found = NearestNeighbors(n_neighbors=3).fit(Z_partners).kneighbors(Z)[1]
    else:
        Z_partners, residual_partners = Z, residual
        found = np.zeros((len(X), 3), dtype=np.intp)
        groups = (
            [np.arange(len(X))] if partners == "any" else [labels == c for c in range(len(classes))]
        )
        for members in groups:
            rows = np.flatnonzero(members) if members.dtype == bool else members
            nn = NearestNeighbors(n_neighbors=4).fit(Z[rows])
            found[rows] = rows[nn.kneighbors(Z[rows])[1][:, 1:]]
    base = np.repeat(np.arange(len(X)), n_per_sample)
    partner = found[base, rng.randint(3, size=len(base))]
    noisy = rng.uniform(size=len(base)) < 0.5
    step = np.where(noisy, 0.0, 0.5).astype(np.float32)[:, None]
    noise = 0.25 * Z.std(axis=0) * rng.standard_normal(Z[base].shape).astype(np.float32)
    Z_new = np.where(
        noisy[:, None], Z[base] + noise, Z[base] + step * (Z_partners[partner] - Z[base])
    )
    new = decode(model, Z_new.astype(np.float32), labels[base])
    if detail == "moved":
        new += residual[base] + step * (residual_partners[partner] - residual[base])
    else:
        new += (1 - step) * residual[base]
    np.clip(new, 0, 1, out=new)
    angles, shifts = draw_jitter(len(base), 10.0, 2.0, rng)
    new = affine_jitter(new.reshape(-1, 1, 28, 28), angles, shifts).reshape(len(base), -1)
    return np.concatenate([X, new]), np.concatenate([y, y[base]])


def main():
    protocol, pool_arg, seeds, variants_json, out = sys.argv[1:6]
    pool_size, _, latent_dim = pool_arg.partition("z")  # "10000z8": latent size 8
    latent_dim = int(latent_dim or 20)
    classifiers = sys.argv[6].split(",") if len(sys.argv) > 6 else ["svm", "knn", "sklearn-mlp"]
    on_test = len(sys.argv) > 7 and sys.argv[7] == "test"
    variants = json.loads(variants_json)
    torch.set_num_threads(2)
    for seed in map(int, seeds.split(",")):
        data = PROTOCOLS[protocol].load("../shared/data", seed)
        full = data.pool()
        pool = full[np.random.RandomState(seed).choice(len(full), int(pool_size), False)]
        started = time.perf_counter()
        classes = np.unique(data.y_train)
        epochs = 12 if len(pool) else 100
        cached = Path.home() / f".cache/vaeaug/m2-{protocol}-pool{pool_arg}-seed{seed}.pt"
        if cached.exists():
            model = ConditionalVAE(len(classes), latent_dim)
            model.load_state_dict(torch.load(cached))
            model.eval()
        else:
            model = fit_conditional_vae(
                data.X_train,
                np.searchsorted(classes, data.y_train),
                pool,
                len(classes),
                seed,
                epochs,
                latent_dim,
            )
            torch.save(model.state_dict(), cached)
        accuracy = np.mean(classes[guess(model, data.X_val)] == data.y_val)
        print(f"# seed {seed} M2 {time.perf_counter() - started:.0f}s, q(y|x) {accuracy:.4f}")
        sets = {
            name: augment(model, data.X_train, data.y_train, pool, seed=seed, **spec)
            for name, spec in variants.items()
        }
        score_sets(
            sets,
            data,
            classifiers,
            on_test,
            out,
            protocol=protocol,
            vae=f"m2-pool{pool_arg}",
            seed=seed,
        )


if __name__ == "__main__":
    main()
