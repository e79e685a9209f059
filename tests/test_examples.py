"""Run every gallery example, so that none of them rots.

Each example trains small VAEs and takes up to half a minute; skip them with
``pytest -m "not examples"``.
"""

import runpy
from pathlib import Path

import matplotlib
import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("plot_*.py"))


@pytest.mark.examples
@pytest.mark.filterwarnings("ignore:FigureCanvasAgg is non-interactive:UserWarning")
@pytest.mark.parametrize("path", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_runs(path, tmp_path, monkeypatch):
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    monkeypatch.chdir(tmp_path)
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        plt.close("all")


def test_examples_are_found():
    assert EXAMPLES, "no examples/plot_*.py found"


@pytest.mark.examples
def test_the_readme_use_snippet_runs_as_written(capsys):
    """The README's first Python block, verbatim: it prints the choice and the test score."""
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    start = readme.index("```python\n") + len("```python\n")
    snippet = readme[start : readme.index("```", start)]
    exec(compile(snippet, "README.md", "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out
    params, score = printed.rsplit("} ", 1)
    assert "'aug__method'" in params and "'aug__vae__latent_dim'" in params
    assert 0.9 < float(score) <= 1.0
