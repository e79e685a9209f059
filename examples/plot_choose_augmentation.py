"""
=========================================================
Letting cross-validation choose the augmentation, cheaply
=========================================================

Which augmentation helps depends on the classifier and on the data: on one
set affine jitter is best, on another interpolation in a VAE's latent space,
and sometimes none is. :func:`vaeaug.model_selection.augmentation_candidates`
gives the steps worth comparing (no augmentation, affine jitter, vaeaug's
default recipe and, with a pool of unlabelled images, its pool recipe, each
recipe with and without its jitter), so that one grid search chooses for
your own classifier. With ``memory`` the VAE recipes share one VAE per fold:
it is trained once per fold, not once per candidate.
"""

# %%
# The search
# ----------
# 300 labelled digits and 900 unlabelled ones (labelled ``-1``, scikit-learn's
# convention). :class:`~vaeaug.model_selection.SemiSupervisedSplit` puts the
# unlabelled rows in every training fold and scores labelled rows only. The
# VAE is small and trained for 40 epochs to keep the example within seconds.

import tempfile

import matplotlib.pyplot as plt
import numpy as np
from imblearn.pipeline import Pipeline
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV
from sklearn.svm import SVC

from vaeaug import VAE
from vaeaug.model_selection import SemiSupervisedSplit, augmentation_candidates

X, y = load_digits(return_X_y=True)
X_pool, y_pool = X[:1200], y[:1200].copy()
y_pool[300:] = -1  # only the first 300 keep their labels
X_test, y_test = X[1200:], y[1200:]

cache = tempfile.TemporaryDirectory()
vae = VAE(image_shape=(8, 8), kl_weight=0.1, hidden_units=256, max_epochs=40, patience=20)
candidates = augmentation_candidates(
    vae, image_shape=(8, 8), unlabeled_label=-1, memory=cache.name, random_state=0
)
pipe = Pipeline([("aug", "passthrough"), ("clf", SVC())])
search = GridSearchCV(pipe, {"aug": candidates}, cv=SemiSupervisedSplit(cv=3, unlabeled_label=-1))
search.fit(X_pool, y_pool)
cache.cleanup()

# %%
# What it chose
# -------------
# Mean accuracy over the three validation folds of each candidate, and the
# test accuracy of the pipeline refitted with the best one on all 1,200 rows.

names = [
    "none",
    "affine jitter",
    "vaeaug default",
    "vaeaug default, no jitter",
    "vaeaug with the pool",
    "vaeaug with the pool, no jitter",
]
scores, spreads = search.cv_results_["mean_test_score"], search.cv_results_["std_test_score"]
for name, score, spread in zip(names, scores, spreads, strict=True):
    print(f"{name:<32} {100 * score:.1f} % ± {100 * spread:.1f}")
print(f"chosen: {names[search.best_index_]}")
print(f"test accuracy: {100 * search.score(X_test, y_test):.1f} %")

fig, ax = plt.subplots(figsize=(6.5, 3.2))
ax.barh(names, 100 * scores, xerr=100 * spreads, color="0.6")
ax.barh(names[search.best_index_], 100 * scores[search.best_index_], color="C0")
ax.set_xlim(100 * np.min(scores) - 5, 100)
ax.set_xlabel("cross-validated accuracy (%)")
ax.invert_yaxis()
fig.tight_layout()

# %%
# When to use it
# --------------
# When the choice matters: a new kind of data, a classifier other than those
# the README's recipes were measured with, or a small labelled set where a
# point of accuracy is worth a few minutes. The candidates are ordinary
# estimators: add your own (another jitter, ``method=SMOTE()`` in the latent
# space) to the list before searching.
