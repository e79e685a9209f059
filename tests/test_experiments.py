import csv
import importlib.util

import numpy as np
import pytest
from sklearn.neighbors import KNeighborsClassifier

from vaeaug import VAE
from vaeaug.paper.cli import main
from vaeaug.paper.experiments import (
    PROTOCOLS,
    Protocol,
    make_classifier,
    make_competitor,
    run_protocol,
)
from vaeaug.paper.experiments.report import markdown_table, paper_comparison, summarize

QUICK = dict(latent_dims=[2], classifiers=["knn"], vae_params={"max_epochs": 1, "hidden_units": 16})


@pytest.fixture(scope="module")
def digits_rows():
    vaes = {}
    rows = run_protocol(
        PROTOCOLS["digits"], seeds=[0, 1], vae_store=vaes, log=lambda _: None, **QUICK
    )
    return rows, vaes


def test_every_cell_is_run_once_per_seed(digits_rows):
    rows, vaes = digits_rows
    cells = {(r["seed"], r["augmenter"], r["latent_dim"], r["classifier"]) for r in rows}
    assert len(cells) == len(rows) == 2 * (1 + 3 + 3)
    assert sorted(vaes) == [(0, 2), (1, 2)]  # one VAE per (seed, latent size)
    baseline = [r for r in rows if r["augmenter"] == "none"]
    assert all(r["n_train"] == 100 for r in baseline)
    assert all(r["n_train"] == 400 for r in rows if r["augmenter"] != "none")
    for row in baseline:  # the score is the classifier's on the protocol's test set
        data = PROTOCOLS["digits"].load(None, row["seed"])
        knn = KNeighborsClassifier().fit(data.X_train, data.y_train)
        assert row["accuracy"] == pytest.approx(100 * knn.score(data.X_test, data.y_test))


def test_tables_show_mean_and_spread(digits_rows):
    rows, _ = digits_rows
    summary = summarize(rows)
    mean, std, n = summary["none", "knn"]
    accuracies = [r["accuracy"] for r in rows if r["augmenter"] == "none"]
    assert n == 2 and mean == pytest.approx(sum(accuracies) / 2)
    table = markdown_table(rows)
    assert "| vae-interpolation (Z=2) |" in table
    assert f"{mean:.2f} ± {std:.2f}" in table
    fake_paper = {"knn": {"baseline": 87.57, "noise": (88.28, 100)}}
    comparison = paper_comparison(rows, fake_paper)
    assert "| knn | baseline |" in comparison and "88.28 (Z=100)" in comparison


def test_validation_scoring_uses_the_validation_set():
    rows = run_protocol(
        PROTOCOLS["digits"],
        methods=[],
        competitors=[],
        evaluate_on="validation",
        log=lambda _: None,
        **QUICK,
    )
    assert len(rows) == 1
    data = PROTOCOLS["digits"].load(None, rows[0]["seed"])
    knn = KNeighborsClassifier().fit(data.X_train, data.y_train)
    assert rows[0]["accuracy"] == pytest.approx(100 * knn.score(data.X_val, data.y_val))
    assert rows[0]["accuracy"] != pytest.approx(100 * knn.score(data.X_test, data.y_test))
    with pytest.raises(ValueError, match="evaluate_on"):
        run_protocol(PROTOCOLS["digits"], evaluate_on="train", **QUICK)


def test_recipes_run_beside_the_paper_methods_with_the_same_amount():
    rows = run_protocol(
        PROTOCOLS["digits"],
        methods=["interpolation"],
        competitors=["smote", "pixel-interpolation", "jitter"],
        recipes=[{}, {"n_per_sample": 2, "max_shift": 1.0}],
        n_per_sample=1,
        log=lambda _: None,
        **QUICK,
    )
    n_train = {r["augmenter"]: r["n_train"] for r in rows}
    assert n_train == {
        "none": 100,
        "smote": 200,
        "pixel-interpolation": 200,
        "jitter": 200,
        "vae-interpolation": 200,
        "vae default": 200,
        "vae n_per_sample=2, max_shift=1.0": 300,
    }


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="Unknown classifier 'tree'"):
        make_classifier("tree", 0)
    with pytest.raises(ValueError, match="Unknown competitor 'mixup'"):
        make_competitor("mixup", (8, 8), 0)


def test_cli_reproduce_writes_results_and_figures(tmp_path, capsys):
    code = main(
        [
            "reproduce",
            "digits",
            "--latent-dims",
            "2",
            "--max-epochs",
            "1",
            "--vae-params",
            '{"hidden_units": 16}',
            "--classifiers",
            "knn",
            "--methods",
            "interpolation",
            "--competitors",
            "jitter",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    with open(tmp_path / "digits.csv") as f:
        assert len(list(csv.DictReader(f))) == 3
    assert "| vae-interpolation (Z=2) |" in (tmp_path / "digits.md").read_text()
    for name in ("reconstructions", "interpolations", "generated"):
        assert (tmp_path / f"digits-{name}.png").stat().st_size > 1000
    assert "Results:" in capsys.readouterr().out


def test_cli_lists_protocols(capsys):
    assert main(["protocols"]) == 0
    assert "mnist-restricted" in capsys.readouterr().out


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["cifar"], "invalid choice: 'cifar'"),
        (["digits", "--latent-dims", "0"], "expected a positive integer"),
        (["digits", "--recipe", "{method: noise}"], "--recipe: expected a JSON object"),
        (["digits", "--recipe", '{"latent_dim": 5}'], "['latent_dim'] are not generation"),
        (["digits", "--vae-params", '{"alpha": 1}'], "['alpha'] are not VAE parameters"),
    ],
)
def test_cli_rejects_bad_arguments(capsys, arguments, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["reproduce", *arguments])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_reports_missing_data_cleanly(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(
        "vaeaug.paper.datasets._fetch.urllib.request.urlopen",
        lambda *a, **k: (_ for _ in ()).throw(OSError("network is unreachable")),
    )
    code = main(["reproduce", "mnist-restricted", "--data-home", str(tmp_path), "--no-figures"])
    assert code == 1
    assert "vaeaug: error:" in capsys.readouterr().err


@pytest.mark.parametrize(
    "arguments, hint",
    [(["demo"], 'pip install "vaeaug[paper]"\n'), (["reproduce", "digits"], "--no-figures")],
)
def test_cli_without_matplotlib_says_which_extra_to_install(arguments, hint, capsys, monkeypatch):
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "matplotlib" else find_spec(name)
    )
    assert main(arguments) == 1
    error = capsys.readouterr().err
    assert "the figures need matplotlib, which the paper extra installs" in error
    assert hint in error


def test_vae_seed_shares_one_vae_across_repetitions(tmp_path):
    digits = PROTOCOLS["digits"]

    def load_fixed_pool(data_home, seed):  # like MNIST: the unlabelled set is fixed
        data = digits.load(data_home, 0)
        rows = np.random.RandomState(seed).choice(len(data.X_train), 80, replace=False)
        data.X_train, data.y_train = data.X_train[rows], data.y_train[rows]
        return data

    fitted = []
    protocol = Protocol("pool", "fixed pool", load_fixed_pool, (2,))
    original_fit = VAE.fit

    def counting_fit(self, X, y=None):
        fitted.append(self.random_state)
        return original_fit(self, X)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(VAE, "fit", counting_fit)
        run_protocol(
            protocol,
            seeds=[0, 1],
            methods=["noise"],
            competitors=[],
            vae_seed=5,
            memory=str(tmp_path),
            log=lambda _: None,
            **QUICK,
        )
    assert fitted == [5]  # trained once, with the shared seed


@pytest.mark.parametrize("label_dtype", [np.int64, np.uint8, str])
def test_recipes_that_search_the_pool_get_the_unlabelled_images(label_dtype):
    digits = PROTOCOLS["digits"]

    def load(data_home, seed):  # MNIST's labels are uint8, UJI Pen's strings
        data = digits.load(data_home, seed)
        for name in ("y_train", "y_val", "y_test"):
            setattr(data, name, getattr(data, name).astype(label_dtype))
        return data

    protocol = Protocol("digits", "", load, digits.latent_dims, vae_params=digits.vae_params)
    data = protocol.load(None, 0)
    pool = data.pool()
    assert len(pool) == len(data.X_unlabelled) - len(data.X_train)
    labelled = {row.tobytes() for row in data.X_train}
    assert not any(row.tobytes() in labelled for row in pool)
    rows = run_protocol(
        protocol,
        methods=[],
        competitors=[],
        recipes=[{"neighbor_search": "unlabeled", "n_per_sample": 2}],
        log=lambda _: None,
        **QUICK,
    )
    (row,) = [r for r in rows if r["augmenter"] != "none"]
    assert row["n_train"] == 100 * 3  # the labelled images and theirs, no pool image


def test_cli_demo_prints_every_training_set_and_writes_figures(tmp_path, capsys, monkeypatch):
    from vaeaug.paper import cli

    def quick(protocol, **kwargs):  # the demo's cells, with a short VAE and kNN only
        kwargs.update(classifiers=["knn"], vae_params={"max_epochs": 2, "hidden_units": 16})
        return run_protocol(protocol, **kwargs)

    monkeypatch.setattr(cli, "run_protocol", quick)
    assert main(["demo", "--out", str(tmp_path)]) == 0
    table = capsys.readouterr().out
    for label in [
        "| none |",
        "| smote |",
        "| pixel-interpolation |",
        "| jitter |",
        "| vae-interpolation (Z=10) |",
        "| vae default (Z=10) |",
        "| vae neighbor_search=unlabeled (Z=10) |",
    ]:
        assert label in table
    assert sorted(p.name for p in tmp_path.glob("*.png")) == [
        "digits-generated.png",
        "digits-interpolations.png",
        "digits-reconstructions.png",
    ]


def test_long_tailed_draw_keeps_the_head_and_thins_the_tail():
    from vaeaug.paper.experiments.protocols import _long_tailed_draw

    y = np.repeat(np.arange(6), 40)
    chosen = _long_tailed_draw(y, 30, 10, seed=0)
    labels, counts = np.unique(y[chosen], return_counts=True)
    assert labels.tolist() == list(range(6)) and counts.tolist() == [30, 30, 30, 3, 3, 3]
    assert len(np.unique(chosen)) == len(chosen)
    assert not np.array_equal(chosen, _long_tailed_draw(y, 30, 10, seed=1))
    # A ratio above the head's size still leaves one sample of each tail class.
    assert np.bincount(y[_long_tailed_draw(y, 30, 100, seed=0)]).tolist() == [30] * 3 + [1] * 3


def _long_tailed_digits():
    """scikit-learn's digits with 8 labelled images of each digit 0-4 and 2 of 5-9."""
    from vaeaug.paper.experiments.protocols import _BALANCING, _long_tailed_draw

    digits = PROTOCOLS["digits"]

    def load(data_home, seed):
        data = digits.load(data_home, seed)
        keep = _long_tailed_draw(data.y_train, 8, 4, seed)
        data.X_train, data.y_train = data.X_train[keep], data.y_train[keep]
        return data

    return Protocol("digits-long-tailed", "", load, (2,), **_BALANCING)


def test_balancing_protocols_balance_with_every_augmenter_and_report_both_metrics(tmp_path):
    lines = []
    rows = run_protocol(
        _long_tailed_digits(),
        seeds=[0],
        methods=[],
        recipes=[{}, {"neighbor_search": "unlabeled"}],
        log=lines.append,
        **QUICK,
    )
    augmenters = {r["augmenter"] for r in rows}
    assert augmenters == {
        "none",
        "smote",
        "pixel-interpolation",
        "jitter",
        "random-oversampling",
        "borderline-smote",
        "vae default",
        "vae neighbor_search=unlabeled",
    }
    # ADASYN cannot run where the minority classes are far from the others; it is
    # reported and left out.
    assert any("adasyn skipped: Not any neigbours belong to the majority" in x for x in lines)
    assert all(r["n_train"] == 50 for r in rows if r["augmenter"] == "none")
    # ADASYN only approaches balance; every other augmenter makes 8 of each class.
    assert all(r["n_train"] == 80 for r in rows if r["augmenter"] not in ("none", "adasyn"))
    for row in rows:
        assert 0 <= row["macro_f1"] <= 100 and 0 <= row["balanced_accuracy"] <= 100
    from vaeaug.paper.experiments.report import write_results

    text = write_results(
        rows, tmp_path, "lt", metrics=("balanced_accuracy", "macro_f1")
    ).read_text()
    assert "Balanced accuracy (%) on the test set." in text and "Macro F1 (%)" in text
    assert "Accuracy (%)" not in text


@pytest.mark.parametrize(("vae_data", "n_images"), [("unlabeled", 1097), ("labelled", 100)])
def test_vae_data_chooses_the_images_the_vae_learns_from(monkeypatch, vae_data, n_images):
    from vaeaug.paper.experiments import runner

    seen, fit = [], runner.fit_with_memory

    def recording_fit(vae, X, memory):
        seen.append(len(X))
        return fit(vae, X, memory)

    monkeypatch.setattr(runner, "fit_with_memory", recording_fit)
    run_protocol(
        PROTOCOLS["digits"],
        methods=[],
        competitors=[],
        recipes=[{}],
        vae_data=vae_data,
        log=lambda _: None,
        **QUICK,
    )
    assert seen == [n_images]


def test_a_run_without_pool_refuses_pool_partners():
    with pytest.raises(ValueError, match="vae_data='labelled' runs without a pool"):
        run_protocol(  # refused before any training
            PROTOCOLS["digits"],
            recipes=[{"neighbor_search": "unlabeled"}],
            vae_data="labelled",
            log=lambda _: None,
            **QUICK,
        )


def test_imblearn_competitors_search_fewer_neighbours_in_small_classes():
    assert make_competitor("smote", (8, 8), 0).k_neighbors == 3
    assert make_competitor("smote", (8, 8), 0, smallest_class=3).k_neighbors == 2
    assert make_competitor("adasyn", (8, 8), 0, smallest_class=2).n_neighbors == 1
    assert make_competitor("borderline-smote", (8, 8), 0, smallest_class=1) is None
    assert make_competitor("random-oversampling", (8, 8), 0, smallest_class=1) is not None
    balancing = make_competitor("jitter", (8, 8), 0, sampling_strategy="auto", smallest_class=1)
    assert balancing.sampling_strategy == "auto"
