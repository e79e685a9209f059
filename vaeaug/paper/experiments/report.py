"""Summaries of experiment rows: mean and spread over seeds, CSV and Markdown."""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np

ROW_FIELDS = (
    "protocol",
    "seed",
    "augmenter",
    "latent_dim",
    "method",
    "classifier",
    "accuracy",
    "balanced_accuracy",
    "macro_f1",
    "n_train",
    "vae_seconds",
    "augment_seconds",
    "fit_seconds",
    "score_seconds",
)


def cell_label(row: dict) -> str:
    """Row label of a results table: the augmenter, with its latent size if any."""
    if row["latent_dim"] is None:
        return row["augmenter"]
    return f"{row['augmenter']} (Z={row['latent_dim']})"


#: How each metric is named in tables.
METRIC_NAMES = {
    "accuracy": "Accuracy",
    "balanced_accuracy": "Balanced accuracy",
    "macro_f1": "Macro F1",
}


def summarize(
    rows: list[dict], metric: str = "accuracy"
) -> dict[tuple[str, str], tuple[float, float, int]]:
    """Mean, standard deviation and count of ``metric`` per (cell label, classifier)."""
    scores = defaultdict(list)
    for row in rows:
        scores[cell_label(row), row["classifier"]].append(row[metric])
    return {key: (float(np.mean(v)), float(np.std(v)), len(v)) for key, v in scores.items()}


def _format(summary: tuple[float, float, int] | None) -> str:
    if summary is None:
        return ""
    mean, std, n = summary
    return f"{mean:.2f} ± {std:.2f}" if n > 1 else f"{mean:.2f}"


def markdown_table(rows: list[dict], metric: str = "accuracy") -> str:
    """``metric`` (%) of every cell, one line per augmenter and latent size."""
    summary = summarize(rows, metric)
    labels = list(dict.fromkeys(cell_label(row) for row in rows))
    classifiers = list(dict.fromkeys(row["classifier"] for row in rows))
    n_seeds = len({row["seed"] for row in rows})
    lines = [
        f"| training set ({'1 seed' if n_seeds == 1 else f'{n_seeds} seeds, mean ± std'}) | "
        + " | ".join(classifiers)
        + " |",
        "|---" * (len(classifiers) + 1) + "|",
    ]
    for label in labels:
        cells = [_format(summary.get((label, clf))) for clf in classifiers]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def paper_comparison(rows: list[dict], paper: dict) -> str:
    """Our baseline and best latent size per method beside the paper's."""
    summary = summarize(rows)
    lines = [
        "| classifier | what | ours | paper |",
        "|---|---|---|---|",
    ]
    for clf in dict.fromkeys(row["classifier"] for row in rows):
        published = paper.get(clf, {})
        baseline = summary.get(("none", clf))
        lines.append(
            f"| {clf} | baseline | {_format(baseline)} | {published.get('baseline', '')} |"
        )
        for method in ("noise", "interpolation", "extrapolation"):
            ours = {
                row["latent_dim"]: summary[cell_label(row), clf]
                for row in rows
                if row["method"] == method and row["classifier"] == clf
            }
            if not ours:
                continue
            best_z = max(ours, key=lambda z: ours[z][0])
            theirs = published.get(method)
            theirs_text = f"{theirs[0]:.2f} (Z={theirs[1]})" if theirs else ""
            lines.append(
                f"| {clf} | best {method} | {_format(ours[best_z])} (Z={best_z}) | {theirs_text} |"
            )
    return "\n".join(lines)


def timing_table(rows: list[dict]) -> str:
    """Median wall time of each stage, in seconds."""
    stages = defaultdict(list)
    seen_vae = set()
    for row in rows:
        if row["vae_seconds"] is not None and (row["seed"], row["latent_dim"]) not in seen_vae:
            seen_vae.add((row["seed"], row["latent_dim"]))
            stages[f"train VAE (Z={row['latent_dim']})"].append(row["vae_seconds"])
        if row["augmenter"] != "none":
            stages[f"augment: {cell_label(row)}"].append(row["augment_seconds"])
        stages[
            f"fit {row['classifier']} ({'augmented' if row['augmenter'] != 'none' else 'baseline'})"
        ].append(row["fit_seconds"])
        stages[f"predict {row['classifier']}"].append(row["score_seconds"])
    lines = ["| stage | median s | runs |", "|---|---|---|"]
    for stage, values in stages.items():
        lines.append(f"| {stage} | {np.median(values):.1f} | {len(values)} |")
    return "\n".join(lines)


def write_results(
    rows: list[dict],
    out_dir: str | Path,
    name: str,
    paper: dict | None = None,
    scored_on: str = "test",
    metrics: tuple[str, ...] = ("accuracy",),
) -> Path:
    """Write ``<name>.csv`` and ``<name>.md`` in ``out_dir``; return the Markdown path.

    ``scored_on`` names the set the scores were measured on; the Markdown has
    a table for each of ``metrics``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / f"{name}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=ROW_FIELDS)
        writer.writeheader()
        writer.writerows({key: row[key] for key in ROW_FIELDS} for row in rows)
    parts = [f"# {name}"]
    for metric in metrics:
        parts += ["", f"{METRIC_NAMES[metric]} (%) on the {scored_on} set.", ""]
        parts += [markdown_table(rows, metric)]
    if paper:
        parts += ["", "## Beside the paper", "", paper_comparison(rows, paper)]
    parts += ["", "## Wall time", "", timing_table(rows), ""]
    path = out_dir / f"{name}.md"
    path.write_text("\n".join(parts))
    return path
