"""Tests of `skblsh fit` with several corpora and the training-diversity
options, and of `skblsh evaluate` rebuilding the task from the model file."""

import numpy as np
import pytest
from sklearn.utils import Bunch

import skblsh.cli._task
from skblsh.cli import main
from skblsh.datasets import make_separation_task
from skblsh.persistence import load_model, save_model

MODEL = ["--hasher", "random", "--n-bits", "16", "--n-neighbors", "3"]


@pytest.fixture
def scored(monkeypatch):
    """What `skblsh evaluate` scores: (sources, estimates, mixtures) per call.

    BSS Eval itself is tested elsewhere (and takes ~1 s per mixture); here
    only the data reaching it matters.
    """
    calls = []

    def record(sources, estimates, mixtures, **kwargs):
        calls.append((sources, estimates, mixtures))
        return Bunch(sdr_weighted=0.0, sir_weighted=0.0, sar_weighted=0.0)

    monkeypatch.setattr(skblsh.cli._task, "separation_report", record)
    return calls


@pytest.fixture(scope="module")
def corpora(tmp_path_factory, fake_corpus):
    root = tmp_path_factory.mktemp("corpora")
    a = fake_corpus(root / "a", n_speakers=3, noise_clips=(2, 2, 2), prefix="a_")
    b = fake_corpus(root / "b", n_speakers=3, noise_clips=(2, 2), prefix="b_", seed=1)
    return a, b


def _assert_scored_on(calls, task, model):
    """evaluate scored the model's estimates and the mixtures of `task`."""
    (sources, estimates, mixtures), (_, unprocessed, _) = calls
    assert len(mixtures) == len(task.mixtures_test) > 0
    for got, want in zip(mixtures, task.mixtures_test, strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(sources, task.sources_test, strict=True):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(estimates, model.predict(task.mixtures_test), strict=True):
        np.testing.assert_array_equal(got, want)
    assert unprocessed is mixtures


def test_fit_two_corpora_with_diversity_and_evaluate(corpora, tmp_path, scored):
    a, b = corpora
    path = tmp_path / "model.joblib"
    argv = [
        "-q",
        "fit",
        "--corpus",
        str(a),
        "--corpus",
        str(b),
        "--protocol",
        "open",
        "--max-utterances",
        "3",
        "--snr-db",
        "-5",
        "10",
        "--gain-db",
        "-6",
        "0",
        "--noises-per-mixture",
        "2",
        "--speed",
        "0.9",
        "1.1",
        "--pitch-semitones",
        "-1",
        "1",
        "--noise-shift",
        "-0.5",
        "0.5",
        "--noise-tilt",
        "3",
        "--synthetic-noise",
        "0.5",
        *MODEL,
        "-o",
        str(path),
    ]
    assert main(argv) == 0
    model, metadata = load_model(path, return_metadata=True)
    assert metadata["corpus"] == [str(a), str(b)]
    assert metadata["task"] == {
        "protocol": "open",
        "max_utterances": 3,
        "random_state": 0,
        "snr_db": [-5.0, 10.0],
        "gain_db": [-6.0, 0.0],
        "noises_per_mixture": 2,
        "speed": [0.9, 1.1],
        "pitch_semitones": [-1.0, 1.0],
        "noise_shift": [-0.5, 0.5],
        "noise_tilt": 3.0,
        "synthetic_noise": 0.5,
    }
    # The model was fitted on exactly this task's training set.
    task = make_separation_task([a, b], **metadata["task"])
    assert model.n_frames_ == sum(1 + len(m) // 256 for m in task.mixtures_train)

    assert main(["-q", "evaluate", "--model", str(path)]) == 0
    _assert_scored_on(scored, task, model)


def test_evaluate_reads_old_single_corpus_metadata(corpora, tmp_path, scored):
    a, _ = corpora
    path = tmp_path / "model.joblib"
    assert main(["-q", "fit", "--corpus", str(a), *MODEL, "-o", str(path)]) == 0
    model, metadata = load_model(path, return_metadata=True)
    # One corpus is still stored as one string.
    assert metadata["corpus"] == str(a)
    assert metadata["task"]["snr_db"] == 0.0
    # Not given, the noise is shifted and tilted as the docs recommend.
    assert metadata["task"]["noise_shift"] == [-1.0, 1.0]
    assert metadata["task"]["noise_tilt"] == [-6.0, 6.0]
    assert metadata["task"]["synthetic_noise"] is None
    task = make_separation_task(a, **metadata["task"])
    assert model.n_frames_ == sum(1 + len(m) // 256 for m in task.mixtures_train)
    plain = make_separation_task(a, random_state=0)
    assert not all(
        np.array_equal(x, y)
        for x, y in zip(task.mixtures_train, plain.mixtures_train, strict=True)
    )
    # A model file written before the diversity options existed.
    old = tmp_path / "old.joblib"
    save_model(
        model,
        old,
        metadata={
            "corpus": str(a),
            "task": {"protocol": "closed", "max_utterances": None, "random_state": 0},
        },
    )
    assert main(["-q", "evaluate", "--model", str(old)]) == 0
    _assert_scored_on(scored, make_separation_task(a, random_state=0), model)


@pytest.mark.parametrize(
    "options, message",
    [
        (
            ["--snr-db", "1", "2", "3"],
            "Expected --snr-db to be one value or a LOW HIGH pair, got 3 values.",
        ),
        (["--snr-db", "10", "-5"], "snr_db to be a finite number or a (low, high)"),
        (["--speed", "0", "1.1"], "speed to be a positive number or a (low, high)"),
        (["--noises-per-mixture", "0"], "'noises_per_mixture' parameter"),
        (["--noise-shift", "1", "-1"], "noise_shift to be a finite number or a"),
        (["--noise-tilt", "1", "2", "3"], "Expected --noise-tilt to be one value"),
        (["--synthetic-noise", "-0.5"], "'synthetic_noise' parameter"),
        (["--synthetic-noise", "nan"], "'synthetic_noise' parameter"),
    ],
)
def test_fit_rejects_bad_diversity_options(corpora, tmp_path, capsys, options, message):
    a, _ = corpora
    path = tmp_path / "m.joblib"
    argv = ["-q", "fit", "--corpus", str(a), *options, *MODEL, "-o", str(path)]
    assert main(argv) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("skblsh: error:") and "\n" not in err
    assert message in err
    assert not path.exists()


def test_fit_diversity_without_corpus_names_the_options(tmp_path, capsys):
    path = tmp_path / "m.joblib"
    argv = ["fit", "--snr-db", "-5", "10", "--gain-db", "-3", "-o", str(path)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "Expected --corpus with --snr-db -5 10 and --gain-db -3, got none" in err
    assert main(["fit", "--synthetic-noise", "0.25", "-o", str(path)]) == 1
    assert "Expected --corpus with --synthetic-noise 0.25" in capsys.readouterr().err
    assert "--corpus " in err.split("its folder")[1]
    assert not path.exists()


def test_fit_first_batch_also_trains_the_refiner(corpora, tmp_path, monkeypatch):
    # The first batch trains the hasher and the refiner: it holds at least
    # _FIRST_BATCH mixtures, later ones --batch-size.
    from skblsh.separation import MaskingSeparator

    sizes, groups = [], []
    partial_fit = MaskingSeparator.partial_fit

    def spy(self, mixtures, sources, **kwargs):
        sizes.append(len(mixtures))
        groups.append(kwargs.get("groups"))
        return partial_fit(self, mixtures, sources, **kwargs)

    monkeypatch.setattr(MaskingSeparator, "partial_fit", spy)
    monkeypatch.setattr(skblsh.cli._task, "_FIRST_BATCH", 5)
    path = tmp_path / "model.joblib"
    argv = ["-q", "fit", "--corpus", str(corpora[0]), "--batch-size", "2"]
    assert main([*argv, *MODEL, "-o", str(path)]) == 0
    task = make_separation_task(corpora[0])
    n = len(task.mixtures_train)
    assert n > 7
    assert sizes == [5] + [2] * ((n - 5) // 2) + [1] * ((n - 5) % 2)
    assert load_model(path).refiner_ is not None
    # Each pair's speaker and noise type reach the refiner's cross-fitting.
    assert groups[0].shape == (5, 2)
    assert set(groups[0][:, 0]) <= set(task.speakers_train)
    assert set(groups[0][:, 1]) <= set(task.noise_types_train)
