"""Shared fixtures: the real corpora beside the project when present, and a
writer of small fake corpora."""

import csv
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from threadpoolctl import threadpool_limits

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
CORPUS = Path(os.environ.get("SKBLSH_CORPUS", SHARED / "corpus")).resolve()
EXTRA_CORPUS = Path(
    os.environ.get("SKBLSH_EXTRA_CORPUS", SHARED / "corpus-extra")
).resolve()


@pytest.fixture(scope="session")
def demo():
    """The embedded demo set, split with seed 0."""
    from skblsh.datasets import load_demo

    return load_demo(random_state=0)


@pytest.fixture
def demo_pairs(demo):
    """``demo_pairs(k)``: the demo set's first ``k`` training pairs, float64."""

    def pairs(k=6):
        mixtures = [x.astype(np.float64) for x in demo.mixtures_train[:k]]
        sources = [x.astype(np.float64) for x in demo.sources_train[:k]]
        return mixtures, sources

    return pairs


@pytest.fixture
def small_separator():
    """``small_separator(**params)``: a seeded MaskingSeparator on a fast
    RandomLSH(32), K=5 pipeline, for tests of the separator's stages."""
    from skblsh.separation import MaskingSeparator, make_separator_pipeline

    def make(**params):
        pipe = make_separator_pipeline(32, 5, hasher="random", random_state=0)
        return MaskingSeparator(pipe, random_state=0, **params)

    return make


@pytest.fixture(scope="module")
def one_blas_thread():
    """One BLAS thread for a module's tests.

    The 2 cores are shared with other jobs; OpenBLAS threads spin-waiting
    under oversubscription made BoostedLSH's 513x513 eigh ~100x slower and
    one 1024x1024 factorisation 30x slower.
    """
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="session")
def corpus_path():
    """Path of the shared development corpus, or skip when it is absent."""
    if not (CORPUS / "manifest.csv").is_file():
        pytest.skip(f"corpus not found at {CORPUS} (set SKBLSH_CORPUS)")
    return CORPUS


@pytest.fixture(scope="session")
def extra_corpus_path():
    """Path of the shared extra training corpus, or skip when it is absent."""
    if not (EXTRA_CORPUS / "manifest.csv").is_file():
        pytest.skip(
            f"extra corpus not found at {EXTRA_CORPUS} (set SKBLSH_EXTRA_CORPUS)"
        )
    return EXTRA_CORPUS


def write_fake_corpus(
    root,
    n_speakers=3,
    n_utt=5,
    noise_clips=(2, 3, 1),
    rows_extra=(),
    *,
    prefix="",
    license_column=True,
    sr=16000,
    seed=0,
):
    """Write a corpus of white-noise "speech" (0.3 s) and noise (0.5 s) files.

    Speakers are ``<prefix>spk0`` ..., noise types ``<prefix>type0`` ...;
    `noise_clips` gives the number of clips of each type. `rows_extra` are
    (path, kind, group) rows listed in the manifest without a file.
    """
    root = Path(root)
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_speakers):
        for u in range(n_utt):
            rows.append((f"speech/spk{s}/u{u}.flac", "speech", f"{prefix}spk{s}"))
    for t, n in enumerate(noise_clips):
        for c in range(n):
            rows.append((f"noise/type{t}/c{c}.flac", "noise", f"{prefix}type{t}"))
    for rel, _, _ in rows:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        seconds = 0.3 if rel.startswith("speech") else 0.5
        sf.write(root / rel, 0.2 * rng.standard_normal(int(seconds * sr)), sr)
    rows += list(rows_extra)
    with open(root / "manifest.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        if license_column:
            w.writerow(["path", "kind", "group", "license"])
            w.writerows([(*r, "CC0-1.0") for r in rows])
        else:
            w.writerow(["path", "kind", "group"])
            w.writerows(rows)
    return root


@pytest.fixture(scope="session")
def fake_corpus():
    """The :func:`write_fake_corpus` writer, for tests that build corpora."""
    return write_fake_corpus


# Property tests draw the same examples on every run, so CI can never fail on
# an example nobody can reproduce (switch profiles locally to explore more).
try:
    from hypothesis import settings
except ImportError:  # pragma: no cover
    pass
else:
    settings.register_profile("skblsh", derandomize=True, deadline=None)
    settings.load_profile("skblsh")
