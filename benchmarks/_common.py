"""Set-up shared by the benchmarks: real MNIST and a description of the machine."""

from __future__ import annotations

import argparse
import os
import platform

import numpy as np
import torch

from vaeaug.datasets import load_mnist

DEFAULT_DATA_HOME = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")


def parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the ``--data-home`` option every benchmark takes."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--data-home",
        default=os.environ.get("VAEAUG_DATA", DEFAULT_DATA_HOME),
        help="folder holding mnist/ (default: $VAEAUG_DATA or ../shared/data)",
    )
    return parser


def mnist_images(data_home: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The paper's 55,000 training and 5,000 validation images, float32 in [0, 1],
    and the training labels."""
    mnist = load_mnist(data_home, download_if_missing=False)
    scale = np.float32(1 / 255)
    return (
        mnist.X_train.astype(np.float32) * scale,
        mnist.X_val.astype(np.float32) * scale,
        mnist.y_train,
    )


def describe_machine() -> str:
    """One line naming the CPU count, torch and its thread count, and any GPU."""
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"torch {torch.__version__} with {torch.get_num_threads()} threads, {gpu}"
    )
