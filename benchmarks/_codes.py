"""Codes the search benchmarks index: learned codes of speech, or uniform bits.

Realistic codes: ``BoostedLSH(L)`` (defaults, one fit per L) on L2-normalised
magnitude STFT frames (``SpectralFeatures()``) of the training mixtures of
``make_separation_task(../shared/corpus, protocol="open")``; all training
frames are hashed, then :func:`replicate` copies them with 1 to 3 random bit
flips each up to N codes, a stand-in for a dictionary of many more hours of
similar speech. Queries are frames of the held-out, unseen speakers.
Uniformly random codes have no neighbourhood structure: the worst case for
multi-index hashing, and the brute-force kernel's usual test bed.
"""

import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from skblsh import BoostedLSH, SpectralFeatures
from skblsh.codes import as_words
from skblsh.datasets import make_separation_task
from skblsh.separation import make_frames

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"


@lru_cache(maxsize=1)
def _speech_features(corpus):
    """(training features, query features, description) of the open task."""
    task = make_separation_task(corpus, protocol="open", random_state=0)
    X, _, _ = make_frames(task.mixtures_train, task.sources_train)
    Xq, _, _ = make_frames(task.mixtures_test, task.sources_test)
    features = SpectralFeatures().fit(X[:10])
    about = (
        f"speakers {task.speech_groups_train}; queries: frames of unseen "
        f"{task.speech_groups_test}"
    )
    return features.transform(X), features.transform(Xq), about


def speech_codes(corpus, n_bits, cache=None):
    """(training codes, held-out-speaker query codes) of one BoostedLSH fit.

    With ``cache`` (a folder), the codes are kept there and reused.
    """
    path = None if cache is None else Path(cache) / f"speech_codes_{n_bits}.npz"
    if path is not None and path.is_file():
        data = np.load(path)
        return data["train"], data["test"]
    F, Fq, about = _speech_features(str(corpus))
    t0 = time.perf_counter()
    hasher = BoostedLSH(n_bits, random_state=0).fit(F)
    print(
        f"  BoostedLSH({n_bits}) fitted on {len(F)} frames of {about} "
        f"({len(Fq)} frames) in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    train, test = hasher.transform(F), hasher.transform(Fq)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, train=train, test=test)
    return train, test


def replicate(base, n, n_bits, seed=0, chunk=2**20):
    """``n`` codes: ``base`` once, then copies with 1 to 3 random bit flips."""
    rng = np.random.default_rng(seed)
    n_bytes = base.shape[1]
    out = np.empty((n, n_bytes), dtype=np.uint8)
    out[: min(n, len(base))] = base[:n]
    base_words = as_words(base)
    for a in range(len(base), n, chunk):
        b = min(n, a + chunk)
        words = base_words[np.arange(a, b) % len(base)].copy()
        n_flips = rng.integers(1, 4, b - a)
        rows = np.arange(b - a)
        for c in range(3):
            pos = rng.integers(0, n_bits, b - a)
            bit = np.where(n_flips > c, np.uint64(1), np.uint64(0)) << (
                pos % 64
            ).astype(np.uint64)
            words[rows, pos // 64] ^= bit
        out[a:b] = words.view(np.uint8)[:, :n_bytes]
    return out


def uniform_codes(n, n_bits, seed):
    """``n`` codes of ``n_bits`` uniformly random bits (padding bits zero)."""
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, 256, (n, -(-n_bits // 8)), dtype=np.uint8)
    if n_bits % 8:
        codes[:, -1] &= (1 << (n_bits % 8)) - 1
    return codes
