"""Reuse one VAE trained on many unlabelled images to augment a few labelled ones.

The paper's "restricted" protocol on scikit-learn's digits: the VAE sees
1,297 images without labels; only 100 of them are labelled. Wrapping the
fitted VAE in FrozenEstimator keeps its weights when the pipeline is cloned.
"""

from imblearn.pipeline import Pipeline
from sklearn.datasets import load_digits
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier

from vaeaug import VAE, VAEAugmenter

X, y = load_digits(return_X_y=True)
X_pool, X_test, y_pool, y_test = train_test_split(X, y, test_size=500, stratify=y, random_state=0)
X_labelled, _, y_labelled, _ = train_test_split(
    X_pool, y_pool, train_size=100, stratify=y_pool, random_state=0
)

vae = VAE(latent_dim=10, max_epochs=300, patience=20, random_state=0).fit(X_pool)  # no labels
print(f"VAE trained for {len(vae.history_)} epochs")

for method in ("noise", "interpolation", "extrapolation"):
    pipe = Pipeline(
        [
            ("aug", VAEAugmenter(vae=FrozenEstimator(vae), method=method, random_state=0)),
            ("clf", KNeighborsClassifier()),
        ]
    ).fit(X_labelled, y_labelled)
    print(f"kNN + VAE {method:<14} {pipe.score(X_test, y_test):.3f}")
baseline = KNeighborsClassifier().fit(X_labelled, y_labelled)
print(f"kNN alone                {baseline.score(X_test, y_test):.3f}")
