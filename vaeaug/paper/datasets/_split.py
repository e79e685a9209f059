"""The stratified train / validation / test split used for the UJIPEN datasets."""

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

TRAIN_FRACTION = 0.5
VAL_FRACTION = 0.05


def add_stratified_split(dataset: Bunch, random_state: int | np.random.RandomState | None) -> Bunch:
    """Add the paper's 50 % / 5 % / 45 % split, stratified by class, to ``dataset``.

    The samples are first split into train and the rest, then the rest into
    validation and test, each time stratified by ``dataset.target``. The
    indices of each part are sorted, so each part keeps the dataset's order.

    Parameters
    ----------
    dataset : Bunch
        Must have ``images`` and ``target``.
    random_state : int, RandomState instance or None
        Controls the shuffling, as in :func:`sklearn.model_selection.train_test_split`.

    Returns
    -------
    dataset : Bunch
        The same Bunch with ``train_index``, ``val_index``, ``test_index`` and
        the corresponding ``X_train``, ``y_train``, ``X_val``, ``y_val``,
        ``X_test``, ``y_test`` (copies) added.
    """
    target = dataset.target
    indices = np.arange(len(target))
    train, rest = train_test_split(
        indices, train_size=TRAIN_FRACTION, stratify=target, random_state=random_state
    )
    val, test = train_test_split(
        rest,
        train_size=VAL_FRACTION / (1 - TRAIN_FRACTION),
        stratify=target[rest],
        random_state=random_state,
    )
    for name, part in (("train", train), ("val", val), ("test", test)):
        part = np.sort(part)
        dataset[f"{name}_index"] = part
        dataset[f"X_{name}"] = dataset.images[part]
        dataset[f"y_{name}"] = target[part]
    return dataset
