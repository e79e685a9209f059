"""
===============================================
Grid search over the latent size and the method
===============================================

The VAE's settings are reached through the augmenter's ``vae`` parameter,
so :class:`~sklearn.model_selection.GridSearchCV` tunes them like any other
step's: ``aug__vae__latent_dim`` is the latent size of the VAE that the
augmenter trains, ``aug__method`` the generation method. The method makes
about half the new images; the others are latent noise around their original
(``noise_share=0.5``, the default).
"""

# %%
# The search
# ----------
# 300 labelled digits, 3-fold cross-validation, 3 latent sizes x 3 methods.
# Every fold trains its own VAE on its training part only, so nothing leaks
# from the validation part. ``memory`` caches the trained VAEs: candidates
# that differ only in the method reuse their fold's VAE, so the search trains
# 3 x 3 VAEs plus one for the final refit, instead of 28. To keep these 10
# trainings within seconds the VAEs are small (``hidden_units=256``, default
# 1024) and trained for 40 epochs only.

import tempfile

import matplotlib.pyplot as plt
import numpy as np
from imblearn.pipeline import Pipeline
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.svm import SVC

from vaeaug import VAE, VAEAugmenter

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, train_size=300, stratify=y, random_state=0
)

latent_dims = [2, 10, 20]
methods = ["noise", "interpolation", "extrapolation"]
cache = tempfile.TemporaryDirectory()
vae = VAE(
    image_shape=(8, 8), kl_weight=0.1, hidden_units=256, batch_size=32, max_epochs=40, patience=20
)
pipe = Pipeline([("aug", VAEAugmenter(vae=vae, memory=cache.name, random_state=0)), ("clf", SVC())])
search = GridSearchCV(pipe, {"aug__vae__latent_dim": latent_dims, "aug__method": methods}, cv=3)
search.fit(X_train, y_train)
cache.cleanup()

# %%
# The scores
# ----------
# ``cv_results_`` holds the mean and spread of the validation accuracy of
# every candidate; the dashed line is the SVM without augmentation, scored on
# the same folds.

results = search.cv_results_
baseline = cross_val_score(SVC(), X_train, y_train, cv=3)
print(f"{'latent_dim':>10}  {'method':<14} {'mean':>6} {'std':>6}")
for params, mean, std in zip(
    results["params"], results["mean_test_score"], results["std_test_score"], strict=True
):
    print(
        f"{params['aug__vae__latent_dim']:>10}  {params['aug__method']:<14} {mean:6.3f} {std:6.3f}"
    )
print(f"{'no augmentation':>26} {baseline.mean():6.3f} {baseline.std():6.3f}")

fig, ax = plt.subplots(figsize=(7.5, 4))
for offset, method in zip([-0.04, 0, 0.04], methods, strict=True):
    rows = [
        results["params"].index({"aug__method": method, "aug__vae__latent_dim": d})
        for d in latent_dims
    ]
    ax.errorbar(
        np.array(latent_dims) * (1 + offset),  # spread the error bars apart
        results["mean_test_score"][rows],
        yerr=results["std_test_score"][rows],
        marker="o",
        capsize=3,
        label=method,
    )
ax.axhline(baseline.mean(), color="gray", linestyle="--", label="no augmentation")
ax.set_xscale("log")
ax.set_xticks(latent_dims, [str(d) for d in latent_dims])
ax.minorticks_off()
ax.set_xlabel("latent size (aug__vae__latent_dim)")
ax.set_ylabel("3-fold accuracy (mean ± std)")
ax.set_title("SVM on 300 digits, VAE augmentation")
ax.legend(title="aug__method", loc="upper left", bbox_to_anchor=(1.01, 1))
fig.tight_layout()
plt.show()

# %%
# The best candidate
# ------------------
# ``GridSearchCV`` refits the best candidate on all 300 images; its test
# accuracy is that of one more VAE trained with the chosen settings.

best = search.best_params_
print(
    f"best: latent_dim={best['aug__vae__latent_dim']}, method={best['aug__method']}, "
    f"3-fold accuracy {search.best_score_:.3f}"
)
print(f"test accuracy, best candidate:   {search.score(X_test, y_test):.3f}")
print(f"test accuracy, no augmentation:  {SVC().fit(X_train, y_train).score(X_test, y_test):.3f}")

# %%
# Here the best candidate is 0.6 points ahead of the SVM without
# augmentation in cross-validation and 1.0 point on the test set, but the
# differences between candidates, and with no augmentation, are smaller than
# the spread between folds: 100 validation images per fold cannot rank them.
# The VAEs are small and briefly trained, on 200 images each; the
# :ref:`sphx_glr_auto_examples_plot_pretrained_vae.py` example shows what a
# VAE trained on more (unlabelled) images changes.
