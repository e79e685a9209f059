"""Docstring fragments shared by samplers that expose the same parameters.

Filled in with imbalanced-learn's :class:`~imblearn.utils.Substitution`.
"""

from __future__ import annotations

GENERATION_PARAMETERS = """method : {"interpolation", "extrapolation", "noise"}, callable or \
imbalanced-learn over-sampler, default="interpolation"
        How new latent vectors are made from each encoded sample ``z`` (see
        :mod:`vaeaug.samplers.latent_moves`): towards a neighbour ``z + alpha (z_n - z)``,
        away from it ``z + alpha (z - z_n)``, or ``z + alpha * e`` with
        Gaussian ``e`` scaled by the per-dimension standard deviation of the
        encoded set. A callable ``method(z, z_neighbor, random_state)`` gets
        arrays of shape ``(n, latent_dim)`` (each row paired with a neighbour,
        as for interpolation) and a ``RandomState``, and returns the new
        vectors, of the same shape. An imbalanced-learn over-sampler
        (:class:`~imblearn.over_sampling.SMOTE`, ``BorderlineSMOTE``,
        ``SVMSMOTE``, ``KMeansSMOTE``, ``ADASYN``, ``RandomOverSampler``) runs
        on the latent vectors of the labelled rows, DeepSMOTE's idea: a clone
        of it is given the number of new vectors of each class as its
        ``sampling_strategy`` and a seed drawn from ``random_state``; each new
        vector is traced to the nearest labelled vector of its class
        (``sample_indices_``, no partner), and decoded like the others.
        ``alpha``, ``k_neighbors`` and ``neighbor_search`` do not apply to it
        (its own parameters, such as SMOTE's ``k_neighbors``, do); ``ADASYN``
        makes about, not exactly, the number asked.

    alpha : float, default=0.5
        Step of interpolation and extrapolation, strength of the noise.
        Not used by a callable ``method`` or an over-sampler.

    k_neighbors : int or estimator, default=3
        Number of nearest neighbours of each sample to pair it with, or a
        fitted-on-demand estimator with ``fit`` and ``kneighbors`` (such as
        :class:`~sklearn.neighbors.NearestNeighbors`) whose ``n_neighbors``
        counts the sample itself, as in imbalanced-learn's SMOTE. The ``j``-th
        new sample of an original is paired with its ``(j mod k)``-th nearest
        neighbour, so ``n_per_sample=3`` with ``k_neighbors=3`` is the paper's
        "one new sample per neighbour".

    neighbor_search : {"class", "all", "unlabeled"}, default="class"
        Search neighbours among the samples of the same class (as the
        feature-space augmentation of DeVries & Taylor), among all labelled
        samples, or among the unlabelled rows (see ``unlabeled_label``): each
        labelled sample then moves towards its nearest unlabelled ones, whose
        variety the labelled set lacks, and keeps its own label.
        A class with fewer than ``k_neighbors + 1`` samples pairs with the
        neighbours it has; a class with a single sample has none, gets no
        synthetic samples from the neighbour methods, and a warning says so."""


AMOUNT_PARAMETERS = """n_per_sample : int, default=3
        New samples made from each original when ``sampling_strategy`` is
        ``None``. Not used otherwise: a warning says so when it was changed.

    sampling_strategy : float, str, dict, callable or None, default=None
        ``None`` augments every class: ``n_per_sample`` new samples for each
        original, also on balanced data. Any other value has the meaning it
        has in imbalanced-learn's over-samplers (``"auto"``, ``"minority"``,
        a ratio, a dict of target counts, a callable) and balances classes;
        the new samples of a class are shared evenly among its originals.

    unlabeled_label : int, str or None, default=None
        The label of unlabelled rows: ``-1`` by scikit-learn's convention for
        semi-supervised learning (as in
        :class:`~sklearn.semi_supervised.SelfTrainingClassifier`). Such rows
        are no class: they make no new samples and are left out of the
        output, which holds the labelled rows and the synthetic ones; a VAE
        trains on them too, and ``neighbor_search="unlabeled"`` pairs the
        labelled rows with them. ``None``: every label is a class (``-1``
        included, with a warning that says how to silence it). A label of
        another type than those of ``y`` (``-1`` for string labels, a string
        for numbers) is refused: it would match no row."""
