"""Run every gallery example, on reduced settings, so CI keeps them working.

Each ``examples/plot_*.py`` runs in a fresh module namespace with matplotlib's
Agg backend and ``SKBLSH_EXAMPLES_QUICK=1`` (the examples shrink their grids
and repeats). The docs build runs them at full size.
"""

import runpy
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("plot_*.py"))


def _check_denoise(g):
    # The full-size run gives 10.1 dB against 0.2 dB for the mixture.
    assert g["report"].sdr[0] > g["report"].sdr[1] + 5


def _check_grid_search(g):
    assert g["scores"].shape == (2, 2)
    assert np.all(g["scores"] > 2), g["scores"]


def _check_fig2(g):
    # With few bits, boosted codes track the ground-truth SSM much better than
    # random ones (quick mode measured 0.57 against 0.45 at L=20); with many
    # bits the two converge.
    corr = {name: c[19] for name, (_, c) in g["results"].items()}
    assert corr["BoostedLSH"] > corr["RandomLSH"] + 0.05, corr


def _check_fig3(g):
    sdrs = np.array([np.mean(v) for v in g["results"].values()])
    assert np.all(sdrs > 2), g["results"]


def _check_digits(g):
    p = g["precision"]
    assert p["BoostedLSH (labels)"][-1] > p["RandomLSH"][-1], p
    assert p["BoostedLSH"][0] > p["RandomLSH"][0], p  # shortest codes


def _check_faiss(g):
    if g["faiss"] is not None:
        assert np.array_equal(g["dist"], g["dist_faiss"])


def _check_code_graphs(g):
    # Measured: codes 0.58 (quick) and 0.64, pixels 0.66 and 0.70; chance is 0.
    assert g["scores"]["128-bit codes"] > 0.45, g["scores"]
    assert g["embedding"].shape[1] == 2


CHECKS = {
    "plot_code_graphs": _check_code_graphs,
    "plot_denoise_utterance": _check_denoise,
    "plot_grid_search": _check_grid_search,
    "plot_fig2_ssm": _check_fig2,
    "plot_fig3_sdr_vs_bits": _check_fig3,
    "plot_digits_retrieval": _check_digits,
    "plot_faiss_interop": _check_faiss,
}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_runs(path, monkeypatch, capsys):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    monkeypatch.setenv("SKBLSH_EXAMPLES_QUICK", "1")
    monkeypatch.setattr(plt, "show", lambda *a, **k: None)
    try:
        g = runpy.run_path(str(path), run_name="__main__")
    finally:
        plt.close("all")
    assert capsys.readouterr().out.strip(), f"{path.name} printed nothing"
    CHECKS.get(path.stem, lambda g: None)(g)


def test_every_example_is_collected_and_checked():
    assert {p.stem for p in EXAMPLES} == set(CHECKS)
