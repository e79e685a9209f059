"""Benchmark 4: the whole restricted-MNIST table, end to end, for one labelled draw.

Every cell of the paper's Table 2 (4 latent sizes x 3 methods x SVM, kNN and
the paper's MLP), the baselines and the competing augmenters, exactly as
``vaeaug reproduce mnist-restricted --seeds 0`` runs them. Every VAE is
trained unless ``--cache-dir`` names a cache that already holds it; an empty
cache directory is filled, so later runs (other draws, ``mnist-full``) reuse
the VAEs. Prints the wall time of each stage and in all. The cache holds
pickles, which run code when loaded: keep it in a private folder, never in a
shared one such as /tmp, and never use a cache from an untrusted source.

    python benchmarks/restricted_table.py --cache-dir ~/.cache/vaeaug
"""

from __future__ import annotations

import time

from _common import describe_machine, parser

from vaeaug.paper.experiments import PROTOCOLS, run_protocol
from vaeaug.paper.experiments.report import markdown_table, timing_table


def main() -> None:
    args = parser(__doc__.splitlines()[0])
    args.add_argument("--seed", type=int, default=0)
    args.add_argument(
        "--cache-dir",
        default=None,
        help="joblib cache of trained VAEs, in a private folder such as ~/.cache/vaeaug "
        "(it holds pickles: never a shared folder like /tmp, never an untrusted cache)",
    )
    args = args.parse_args()
    print(describe_machine())
    started = time.perf_counter()
    rows = run_protocol(
        PROTOCOLS["mnist-restricted"],
        seeds=[args.seed],
        data_home=args.data_home,
        memory=args.cache_dir,
    )
    total = time.perf_counter() - started
    print(markdown_table(rows))
    print(timing_table(rows))
    print(f"whole table: {total / 60:.1f} min ({len(rows)} scores)")


if __name__ == "__main__":
    main()
