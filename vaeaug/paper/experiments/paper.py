"""The paper's generation recipe and its published results."""

METHODS = ("noise", "interpolation", "extrapolation")

#: The paper's generation, pinned so that changes of VAEAugmenter's defaults
#: leave the paper's tables as they are.
PAPER_RECIPE = {
    "alpha": 0.5,
    "k_neighbors": 3,
    "n_per_sample": 3,
    "noise_share": 0.0,
    "decoding": "direct",
    "max_rotation": 0.0,
    "max_shift": 0.0,
}

# The paper's best cell per method (accuracy %, latent size), from its tables.
PAPER_RESULTS = {
    "mnist-restricted": {
        "svm": {
            "baseline": 90.00,
            "noise": (90.83, 10),
            "interpolation": (91.87, 10),
            "extrapolation": (92.27, 20),
        },
        "knn": {
            "baseline": 87.57,
            "noise": (88.28, 100),
            "interpolation": (91.61, 100),
            "extrapolation": (86.95, 10),
        },
        "mlp": {
            "baseline": 90.01,
            "noise": (89.74, 10),
            "interpolation": (91.86, 20),
            "extrapolation": (90.21, 100),
        },
    },
    "mnist-full": {
        "svm": {
            "baseline": 96.76,
            "noise": (97.08, 50),
            "interpolation": (97.22, 10),
            "extrapolation": (97.56, 10),
        },
        "knn": {
            "baseline": 96.88,
            "noise": (96.20, 50),
            "interpolation": (97.35, 50),
            "extrapolation": (96.76, 10),
        },
        "mlp": {
            "baseline": 98.39,
            "noise": (98.29, 50),
            "interpolation": (98.40, 20),
            "extrapolation": (98.29, 20),
        },
    },
    "ujipen": {
        "svm": {
            "baseline": 54.79,
            "noise": (60.18, 100),
            "interpolation": (64.68, 50),
            "extrapolation": (64.20, 50),
        },
        "knn": {
            "baseline": 31.86,
            "noise": (41.42, 100),
            "interpolation": (53.15, 20),
            "extrapolation": (46.74, 20),
        },
        "mlp": {
            "baseline": 63.99,
            "noise": (60.25, 100),
            "interpolation": (65.60, 20),
            "extrapolation": (64.09, 20),
        },
    },
}
