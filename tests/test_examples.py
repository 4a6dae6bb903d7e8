"""Run every gallery example, on reduced settings, so CI keeps them working.

Each ``examples/plot_*.py`` runs in a fresh module namespace with matplotlib's
Agg backend and ``SKBLSH_EXAMPLES_QUICK=1`` (the examples shrink their grids
and repeats). The docs build runs them at full size.
"""

import runpy
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))


def test_every_example_is_collected():
    names = {p.stem for p in EXAMPLES}
    assert {
        "plot_denoise_utterance",
        "plot_grid_search",
        "plot_fig2_ssm",
        "plot_fig3_sdr_vs_bits",
        "plot_digits_retrieval",
        "plot_faiss_interop",
    } <= names


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(path, monkeypatch, capsys):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    monkeypatch.setenv("SKBLSH_EXAMPLES_QUICK", "1")
    monkeypatch.setattr(plt, "show", lambda *a, **k: None)
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        plt.close("all")
    out = capsys.readouterr().out
    assert out.strip(), f"{path.name} printed nothing"
