"""Figures like the paper's: reconstructions, interpolation strips, generated samples.

Each function returns a :class:`matplotlib.figure.Figure`; matplotlib is
imported only when one is called.
"""

from __future__ import annotations

import numpy as np

from vaeaug import VAE


def _image_grid(
    rows: list[np.ndarray], image_shape, row_labels=None, title=None, column_titles=None
):
    """Figure with one row of images per array in ``rows`` (missing cells blank);
    ``column_titles`` (``None`` entries for none) head the top row's columns."""
    import matplotlib.pyplot as plt

    n_cols = max(len(r) for r in rows)
    fig, axes = plt.subplots(
        len(rows), n_cols, figsize=(0.8 * n_cols + 1.2, 0.8 * len(rows) + 0.4), squeeze=False
    )
    for i, images in enumerate(rows):
        for j, ax in enumerate(axes[i]):
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if j < len(images):
                ax.imshow(np.asarray(images[j]).reshape(image_shape), cmap="gray_r")
        if row_labels is not None:
            axes[i, 0].set_ylabel(row_labels[i], rotation=0, ha="right", va="center", fontsize=8)
    for ax, column_title in zip(axes[0], column_titles or [], strict=False):
        if column_title:
            ax.set_title(column_title, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _display_shape(vae: VAE) -> tuple[int, ...]:
    channels, height, width = vae.layout_.image_shape
    return (height, width) if channels == 1 else (height, width, channels)


def plot_reconstructions(vae: VAE, X: np.ndarray, n_images: int = 10):
    """Originals (top row) and their decoded posterior means (bottom row).

    Parameters
    ----------
    vae : VAE
        A fitted VAE on images.
    X : array-like
        Images laid out as in ``vae.fit``; the first ``n_images`` are shown.
    n_images : int, default=10
        Number of columns.
    """
    originals = np.asarray(X[:n_images])
    decoded = vae.inverse_transform(vae.transform(originals))
    return _image_grid(
        [originals, decoded], _display_shape(vae), ["original", "decoded"], "VAE reconstructions"
    )


def plot_interpolations(
    vae: VAE,
    pairs: list[tuple[np.ndarray, np.ndarray]],
    n_steps: int = 10,
    pair_labels: list[str] | None = None,
):
    """One row per pair: decoded points evenly spaced between the two latent codes.

    The decodings are direct (the paper's figure), without the detail that
    residual decoding adds to vaeaug's samples.

    Parameters
    ----------
    vae : VAE
        A fitted VAE on images.
    pairs : list of (image, image)
        Start and end images of each row (e.g. same class, then across classes).
    n_steps : int, default=10
        Images per row, ends included.
    pair_labels : list of str, default=None
        A label for each row, such as ``"0 -> 1"``.
    """
    weights = np.linspace(0.0, 1.0, n_steps)[:, None]
    rows = []
    for start, end in pairs:
        z = vae.transform(np.stack([start, end]))
        rows.append(vae.inverse_transform((1 - weights) * z[0] + weights * z[1]))
    return _image_grid(
        rows,
        _display_shape(vae),
        pair_labels,
        "Latent interpolations between two images, decoded directly",
    )


def plot_generated(
    X_original: np.ndarray,
    samples: dict[str, tuple[np.ndarray, np.ndarray]],
    image_shape: tuple[int, ...],
    originals: list[int],
):
    """One row per augmenter: a few originals, each followed by the samples made from it.

    Parameters
    ----------
    X_original : ndarray of shape (n_samples, n_features)
        The augmented set's originals.
    samples : dict of name -> (X_resampled, sample_indices)
        Output of each augmenter's ``fit_resample`` and its ``sample_indices_``.
    image_shape : tuple of int
        ``(height, width)`` for display.
    originals : list of int
        Indices of the originals to show.
    """
    n_original = len(X_original)
    rows = []
    for X_res, sample_indices in samples.values():
        row = []
        for i in originals:
            children = np.flatnonzero(sample_indices[n_original:] == i) + n_original
            row += [X_original[i], *X_res[children]]
        rows.append(row)
    group = len(rows[0]) // len(originals)  # the same number of samples per original
    column_titles = ["original" if j % group == 0 else None for j in range(len(rows[0]))]
    return _image_grid(
        rows,
        image_shape,
        list(samples),
        "Originals and the samples each augmenter made from them",
        column_titles,
    )
