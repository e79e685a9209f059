"""Set-up shared by the benchmarks: real MNIST and a description of the machine."""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch

from vaeaug.engine.callbacks import Callback
from vaeaug.paper.datasets import load_mnist

DEFAULT_DATA_HOME = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data")


class TimeTrainings(Callback):
    """Counts VAE trainings and their seconds, across the copies each fit makes of its
    callbacks (class attributes; :meth:`reset` before a measurement)."""

    count = 0
    seconds = 0.0

    @classmethod
    def reset(cls) -> None:
        cls.count, cls.seconds = 0, 0.0

    def on_train_begin(self, module):
        type(self).count += 1
        self.started = time.perf_counter()

    def on_train_end(self, module, history):
        type(self).seconds += time.perf_counter() - self.started


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
    """One line naming the CPU, its vector extensions, torch and its threads, and any GPU.

    Speed choices (memory layout, batch size) can rank differently on AVX2 and
    AVX-512 hosts, so every benchmark prints which kind it ran on.
    """
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "no GPU"
    return (
        f"{_cpu_model()} ({platform.machine()}), {os.cpu_count()} CPUs, vector extensions: "
        f"{_vector_extensions()}, torch {torch.__version__} with "
        f"{torch.get_num_threads()} threads, {gpu}"
    )


def _cpuinfo(field: str) -> str:
    """The value of the first ``field`` line of /proc/cpuinfo; empty where there is none."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(field):
                return line.split(":", 1)[1].strip()
    return ""


def _cpu_model() -> str:
    return _cpuinfo("model name") or platform.processor() or "unknown CPU"


def _vector_extensions() -> str:
    """torch's CPU capability, and the AVX-512 and AMX flags Linux reports."""
    flags = set(_cpuinfo("flags").split())
    wanted = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile")
    found = [flag for flag in wanted if flag in flags]
    capability = torch.backends.cpu.get_cpu_capability()
    return capability + (f" ({', '.join(found)})" if found else "")
