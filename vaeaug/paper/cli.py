"""The ``vaeaug`` command: ``demo``, ``reproduce PROTOCOL`` and ``protocols``."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import numpy as np

from .experiments import (
    CLASSIFIERS,
    COMPETITORS,
    METHODS,
    PAPER_RECIPE,
    PROTOCOLS,
    RECIPE_PARAMETERS,
    RUN_VAE_PARAMETERS,
    make_competitor,
    run_protocol,
)
from .experiments.report import METRIC_NAMES, markdown_table, paper_comparison, write_results


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def _json_parameters(allowed: tuple[str, ...], owner: str):
    """Argument type: a JSON object whose keys are among ``allowed``."""

    def parse(text: str) -> dict:
        try:
            params = json.loads(text)
        except json.JSONDecodeError as exc:
            raise argparse.ArgumentTypeError(
                f"expected a JSON object, got {text!r}: {exc}"
            ) from exc
        if not isinstance(params, dict):
            raise argparse.ArgumentTypeError(f"expected a JSON object, got {text!r}")
        unknown = sorted(set(params) - set(allowed))
        if unknown:
            raise argparse.ArgumentTypeError(
                f"{unknown} are not {owner}; expected some of {list(allowed)}"
            )
        return params

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vaeaug", description="Data augmentation with a variational autoencoder."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser(
        "demo",
        help="augment 100 labelled digits (scikit-learn's, embedded) with each method",
        description="Train a VAE without labels on scikit-learn's digits, augment 100 "
        "labelled digits with each of the paper's methods, the default recipe, the "
        "default with unlabelled digits as partners and the competing augmenters, and "
        "print test accuracy of SVM, kNN and MLP. Writes figures of the samples.",
    )
    demo.add_argument("--out", default="vaeaug-demo", help="output folder (default: %(default)s)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")

    reproduce = commands.add_parser(
        "reproduce",
        help="run one of the paper's protocols",
        description="Run every latent size x method x classifier cell of a protocol, "
        "with baselines and competing augmenters; write CSV, Markdown and figures.",
    )
    reproduce.add_argument("protocol", choices=sorted(PROTOCOLS), help="which experiment")
    reproduce.add_argument(
        "--data-home", help="dataset folder (default: $VAEAUG_DATA or ~/vaeaug_data)"
    )
    reproduce.add_argument("--out", default="results", help="output folder (default: %(default)s)")
    reproduce.add_argument(
        "--seeds", type=int, nargs="+", default=[0], help="one repetition per seed (default: 0)"
    )
    reproduce.add_argument(
        "--latent-dims", type=_positive_int, nargs="+", help="default: the protocol's"
    )
    reproduce.add_argument(
        "--methods",
        nargs="*",
        choices=METHODS,
        default=list(METHODS),
        help="the paper's VAE methods to run; none with an empty list (default: all)",
    )
    reproduce.add_argument(
        "--classifiers",
        nargs="+",
        choices=list(CLASSIFIERS),
        default=["svm", "knn", "mlp"],
        help="classifiers trained on each training set (default: svm knn mlp)",
    )
    reproduce.add_argument(
        "--competitors",
        nargs="*",
        choices=list(COMPETITORS),
        help="default: the protocol's (all of them for the long-tailed protocols)",
    )
    reproduce.add_argument(
        "--recipe",
        type=_json_parameters(
            RECIPE_PARAMETERS,
            "generation parameters of VAEAugmenter (--vae-params sets the VAE's)",
        ),
        action="append",
        default=[],
        metavar="JSON",
        help="also run a VAEAugmenter with these parameters over its defaults, e.g. "
        """'{"method": "extrapolation"}'; '{}' is the default recipe (repeatable)""",
    )
    reproduce.add_argument(
        "--n-per-sample",
        type=_positive_int,
        default=3,
        help="new samples per original for every augmenter (default: %(default)s, the paper's)",
    )
    reproduce.add_argument(
        "--evaluate-on",
        choices=["test", "validation"],
        default="test",
        help="score on the validation set to choose settings (default: %(default)s)",
    )
    reproduce.add_argument("--max-epochs", type=_positive_int, help="cap on VAE epochs")
    reproduce.add_argument(
        "--vae-params",
        type=_json_parameters(RUN_VAE_PARAMETERS, "VAE parameters"),
        default={},
        metavar="JSON",
        help="""VAE parameters over the protocol's, e.g. '{"conv_channels": [32, 64]}'""",
    )
    reproduce.add_argument(
        "--cache-dir",
        help="cache trained VAEs here and reuse them across runs (joblib.Memory); entries "
        "are pickles, so use a folder only you can write to",
    )
    reproduce.add_argument(
        "--vae-seed",
        type=int,
        help="train one VAE per latent size with this seed for all --seeds "
        "(default: one VAE per seed)",
    )
    reproduce.add_argument(
        "--vae-data",
        choices=("unlabeled", "labelled"),
        default="unlabeled",
        help="train the VAE on the protocol's unlabelled images, or on the labelled ones "
        "only, as a user without a pool (default: %(default)s)",
    )
    reproduce.add_argument("--no-figures", action="store_true", help="skip the figures")

    commands.add_parser("protocols", help="list the protocols")
    return parser


def _log(line: str) -> None:
    print(line, flush=True)


def _save_figures(protocol, data, vae, methods, out: Path, seed: int) -> list[Path]:
    """Reconstructions, interpolations and generated samples, as PNG files in ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    from sklearn.frozen import FrozenEstimator

    from vaeaug import VAEAugmenter

    from .plotting import plot_generated, plot_interpolations, plot_reconstructions

    labels = np.unique(data.y_val)
    first = [np.flatnonzero(data.y_val == label)[0] for label in labels]
    last = [np.flatnonzero(data.y_val == label)[-1] for label in labels]
    steps = range(min(3, len(labels) - 1))
    pairs = [(data.X_val[first[0]], data.X_val[last[0]])] + [
        (data.X_val[first[i]], data.X_val[first[i + 1]]) for i in steps
    ]
    pair_labels = [f"{labels[0]} to {labels[0]}"] + [
        f"{labels[i]} to {labels[i + 1]}" for i in steps
    ]
    augmenters = {
        f"VAE {method}": VAEAugmenter(
            FrozenEstimator(vae), **{**PAPER_RECIPE, "method": method}, random_state=seed
        )
        for method in methods
    }
    augmenters["VAE default"] = VAEAugmenter(FrozenEstimator(vae), random_state=seed)
    X, y = data.X_train, data.y_train
    pool = data.pool()
    if len(pool):  # labelled rows first, so sample_indices_ index X_train's rows
        augmenters["VAE pool recipe"] = VAEAugmenter(
            FrozenEstimator(vae), neighbor_search="unlabeled", unlabeled_label=-1, random_state=seed
        )
    augmenters["affine jitter"] = make_competitor("jitter", data.image_shape, seed)
    samples = {}
    for name, augmenter in augmenters.items():
        if name == "VAE pool recipe":
            X_in = np.concatenate([X, pool])
            y_in = np.concatenate([y.astype(np.int64), np.full(len(pool), -1)])
        else:
            X_in, y_in = X, y
        samples[name] = (augmenter.fit_resample(X_in, y_in)[0], augmenter.sample_indices_)
    originals = [int(np.flatnonzero(data.y_train == label)[0]) for label in labels[:3]]
    figures = {
        "reconstructions": plot_reconstructions(vae, data.X_val),
        "interpolations": plot_interpolations(vae, pairs, pair_labels=pair_labels),
        "generated": plot_generated(data.X_train, samples, data.image_shape, originals),
    }
    paths = []
    for name, figure in figures.items():
        path = out / f"{protocol.name}-{name}.png"
        figure.savefig(path, dpi=100)
        paths.append(path)
    return paths


def _figures_for_run(protocol, vae_store, seed, methods, out, data_home) -> list[Path]:
    """Figures from the run's VAE of the first seed (Z=20 when it was trained)."""
    latent_dims = sorted(z for s, z in vae_store if s == seed)
    if not latent_dims or not methods:
        return []
    latent_dim = 20 if 20 in latent_dims else latent_dims[0]
    data = protocol.load(data_home, seed)
    return _save_figures(protocol, data, vae_store[seed, latent_dim], methods, out, seed)


def _output_folder(out: str) -> Path:
    """The ``--out`` folder, created where missing."""
    path = Path(out)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = "a file is in the way" if path.exists() else exc.strerror or str(exc)
        raise OSError(f"--out {out}: cannot create the output folder ({reason}).") from None
    return path


def demo(args) -> None:
    started = time.perf_counter()
    out = _output_folder(args.out)
    protocol = PROTOCOLS["digits"]
    _log(f"vaeaug demo: {protocol.description}")
    vaes = {}
    # The paper's methods, then the library's default recipe and the same with the
    # unlabelled images as partners, beside the competitors.
    recipes = [{}, {"neighbor_search": "unlabeled"}]
    rows = run_protocol(
        protocol, seeds=[args.seed], latent_dims=[10], recipes=recipes, vae_store=vaes, log=_log
    )
    print("\nTest accuracy (%):\n")
    print(markdown_table(rows))
    paths = _figures_for_run(protocol, vaes, args.seed, METHODS, out, None)
    write_results(rows, out, "digits")
    print(f"\nFigures: {', '.join(str(p) for p in paths)}")
    print(f"Done in {time.perf_counter() - started:.0f} s.")


def reproduce(args) -> None:
    started = time.perf_counter()
    protocol = PROTOCOLS[args.protocol]
    out = _output_folder(args.out)
    vae_params = dict(args.vae_params)
    if args.max_epochs is not None:
        vae_params["max_epochs"] = args.max_epochs
    _log(f"vaeaug reproduce {protocol.name}: {protocol.description}")
    vaes = {}
    rows = run_protocol(
        protocol,
        seeds=args.seeds,
        latent_dims=args.latent_dims,
        methods=args.methods,
        classifiers=args.classifiers,
        competitors=args.competitors,
        recipes=args.recipe,
        n_per_sample=args.n_per_sample,
        evaluate_on=args.evaluate_on,
        data_home=args.data_home,
        vae_params=vae_params,
        vae_store=vaes,
        memory=args.cache_dir,
        vae_seed=args.vae_seed,
        vae_data=args.vae_data,
        log=_log,
    )
    name = protocol.name + ("-labelled-vae" if args.vae_data == "labelled" else "")
    name += "-validation" if args.evaluate_on == "validation" else ""
    paper = protocol.paper if args.evaluate_on == "test" else None
    path = write_results(rows, out, name, paper, args.evaluate_on, protocol.metrics)
    for metric in protocol.metrics:
        print(f"\n{METRIC_NAMES[metric]} (%):\n\n{markdown_table(rows, metric)}\n")
    if protocol.paper and args.evaluate_on == "test":
        print(f"{paper_comparison(rows, protocol.paper)}\n")
    if not args.no_figures:
        paths = _figures_for_run(protocol, vaes, args.seeds[0], args.methods, out, args.data_home)
        print(f"Figures: {', '.join(str(p) for p in paths)}")
    print(f"Results: {path} (and .csv). Done in {time.perf_counter() - started:.0f} s.")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "protocols":
        for protocol in PROTOCOLS.values():
            print(f"{protocol.name:<33} {protocol.description}")
        return 0
    figures = args.command == "demo" or not args.no_figures
    if figures and importlib.util.find_spec("matplotlib") is None:
        print(
            "vaeaug: error: the figures need matplotlib, which the paper extra installs: "
            'pip install "vaeaug[paper]"'
            + ("" if args.command == "demo" else " (or pass --no-figures)"),
            file=sys.stderr,
        )
        return 1
    try:
        {"demo": demo, "reproduce": reproduce}[args.command](args)
    except (OSError, ValueError) as exc:
        print(f"vaeaug: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
