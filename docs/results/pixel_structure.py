"""How :func:`vaeaug.utils.has_pixel_structure` decides on image datasets and on
tables (docs/results.md, "Flat rows read as images").

    python docs/results/pixel_structure.py [DATA_HOME]

Prints, for each dataset as flat rows, the mean correlation of neighbouring
values along each axis of the square they would form and of values half a
row apart (on the rows the test reads), and the decision.
"""

import sys

import numpy as np
from scipy.ndimage import gaussian_filter1d
from sklearn.datasets import load_digits, make_classification

from vaeaug.paper.experiments.protocols import PROTOCOLS
from vaeaug.utils import has_pixel_structure
from vaeaug.utils._layout import pixel_correlations


def report(name: str, X: np.ndarray) -> None:
    side = int(np.sqrt(X.shape[1]))
    right, below, half = pixel_correlations(X, side)
    decision = "images" if has_pixel_structure(X, side) else "table"
    print(f"| {name} | {side}x{side} | {right:.2f} | {below:.2f} | {half:.2f} | {decision} |")


def main() -> None:
    data_home = sys.argv[1] if len(sys.argv) > 1 else "../shared/data"
    rng = np.random.RandomState(0)
    print("| data | square | right | below | half a row | read as |")
    print("|---|---|---|---|---|---|")
    mnist = PROTOCOLS["mnist-restricted"].load(data_home, 0).X_train
    report("MNIST, 1,000 labelled digits", mnist)
    report("MNIST, 10 digits", mnist[:10])
    report("MNIST, pixels shuffled", mnist[:, rng.permutation(784)])
    digits = load_digits().data
    report("scikit-learn's digits", digits)
    report("digits, pixels shuffled", digits[:, rng.permutation(64)])
    for protocol, name in (("ujipen-v1", "v1"), ("ujipen-v2-digits", "v2 digits")):
        report(f"UJI Pen {name}, rendered", PROTOCOLS[protocol].load(data_home, 0).X_train)
    report("random walks (784 steps)", np.abs(np.cumsum(rng.normal(size=(1000, 784)), axis=1)))
    for width, sigma in ((784, 20), (784, 5), (64, 3)):
        signals = np.abs(gaussian_filter1d(rng.normal(size=(1000, width)), sigma, axis=1))
        report(f"smooth 1-D signals, {width} values (sigma {sigma})", signals)
    topics = rng.dirichlet(np.full(100, 0.1), 5)
    report("word counts, 100 words", rng.poisson(30 * rng.dirichlet(np.ones(5), 1000) @ topics))
    series = np.cumsum(rng.normal(size=(1000, 28, 1)), axis=1) + 0.5 * rng.normal(
        size=(1000, 28, 28)
    )
    report("28 correlated series x 28 steps", np.abs(series.reshape(1000, -1)))
    X, _ = make_classification(1000, 64, n_informative=20, n_redundant=20, random_state=0)
    report("make_classification, 64 features", X - X.min())


if __name__ == "__main__":
    main()
