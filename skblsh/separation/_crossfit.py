"""Cross-fitting of the refiner: which training pairs' masks it learns from.

The refiner must learn how far to trust the kNN masks of audio the
dictionary has not heard, so each training pair it learns from is masked
by a dictionary built without the pair's groups (its clean source by
default; its speaker and noise type when given). :func:`check_groups`
turns ``fit``'s ``groups`` into columns of group labels, :func:`refine_folds`
deals them to folds, and :func:`fit_refiner` masks each fold's targets with
the estimator's last step refitted on the fold's dictionary and trains a
:class:`~._refine.MaskRefiner` on the result.
"""

import hashlib

import numpy as np
from sklearn.base import clone

from ..stft import stft_frames
from ._pipeline import split_last_step
from ._refine import MARGIN, MaskRefiner, recording_statistics, refine_features

__all__ = ["check_groups", "fit_refiner", "refine_folds", "source_groups"]

# Bins the refiner is trained on: enough for a 10 -> 16 -> 1 network,
# small enough to keep ``fit`` within seconds.
TRAIN_FRAMES = 3000


def source_groups(sources):
    """Group index of every training pair: pairs sharing a clean source."""
    seen, groups = {}, []
    for s in sources:
        key = hashlib.sha1(np.ascontiguousarray(s).view(np.uint8)).hexdigest()
        groups.append(seen.setdefault(key, len(seen)))
    return np.asarray(groups)


def check_groups(groups, sources, *, refine, level):
    """``fit``'s ``groups`` as a (n_pairs, n_kinds) array, or None when the
    separator's ``refine`` and ``level`` call for no refiner."""
    auto = refine == "auto"
    if refine is False or (auto and level != "recording"):
        return None
    if level != "recording":
        raise ValueError(
            f"Expected level='recording' with refine=True (the refiner's "
            f"features need the whole recording's noise floor and level), "
            f"got level={level!r}. Pass refine=False or 'auto'."
        )
    if groups is None:
        groups = source_groups(sources)[:, None]
    else:
        groups = np.asarray(groups)
        if groups.ndim == 1:
            groups = groups[:, None]
        if (
            groups.ndim != 2
            or len(groups) != len(sources)
            or groups.shape[1] not in (1, 2)
        ):
            raise ValueError(
                f"Expected groups of shape ({len(sources)},) or "
                f"({len(sources)}, 2), one row per training pair (e.g. its "
                f"speaker, or its speaker and noise type), got shape "
                f"{groups.shape}."
            )
    too_few = [k for k in range(groups.shape[1]) if len(np.unique(groups[:, k])) < 2]
    if too_few and not auto:
        raise ValueError(
            f"Expected training pairs of at least 2 groups in every column "
            f"of groups to cross-fit the refiner (refine=True), got 1 in "
            f"column {too_few[0]}. Pass more pairs or refine=False."
        )
    # "auto" cross-fits on the columns that can be (e.g. the speakers of
    # a corpus with a single noise type), and without a refiner if none.
    groups = np.delete(groups, too_few, axis=1)
    return groups if groups.shape[1] else None


# Folds of the refiner's cross-fitting. Two beat five on the validation
# splits (STOI +0.002-0.003, SDR equal; the separator's user guide),
# although five give dictionaries closer to the final one.
REFINE_FOLDS = 2


def refine_folds(groups, rng):
    """Cross-fitting folds of the training pairs.

    Each column of ``groups`` (n_pairs, n_kinds) is dealt to the folds in a
    random order, a group to one fold. A pair is a *target* of fold k when
    all its groups lie in fold k (else of none: -1); fold k's dictionary
    holds the pairs none of whose groups lie in fold k, so it shares no
    group with the fold's targets.

    Returns
    -------
    target : ndarray of shape (n_pairs,)
        Fold whose target each pair is, or -1.
    train : list of ndarray of bool, shape (n_pairs,)
        The pairs of each fold's dictionary.
    """
    n_folds = min(REFINE_FOLDS, *(len(np.unique(column)) for column in groups.T))
    folds = np.empty(groups.shape, dtype=np.intp)
    for k, column in enumerate(groups.T):
        names = np.unique(column)
        fold_of = dict(
            zip(rng.permutation(names), np.arange(len(names)) % n_folds, strict=True)
        )
        folds[:, k] = [fold_of[g] for g in column]
    target = np.where((folds == folds[:, :1]).all(axis=1), folds[:, 0], -1)
    return target, [~(folds == k).any(axis=1) for k in range(n_folds)]


def fit_refiner(separator, mixtures, X, Y, recording, groups, rng):
    """Cross-fitted raw masks of sampled training frames -> MaskRefiner.

    ``separator`` is the :class:`MaskingSeparator` being fitted (its
    ``estimator_`` fitted on the whole dictionary), ``X``, ``Y`` and
    ``recording`` every training frame's row, target and pair, ``groups``
    the output of :func:`check_groups`. Returns None when ``refine="auto"``
    and no pair is a fold's target.

    Only the last step is refitted per fold: the fitted steps before it
    (the hasher) never see a mask, and what must not leak into a fold's
    masks is its own dictionary entries.
    """
    head, last = split_last_step(separator.estimator_)
    if head is not None:
        X = head.transform(X)
    analysis = separator._analysis()
    target, trains = refine_folds(groups, rng)
    fold = target[recording]
    candidates = np.flatnonzero(fold >= 0)
    size = min(len(candidates), TRAIN_FRAMES)
    picked = candidates[np.sort(rng.choice(len(candidates), size=size, replace=False))]
    starts = np.searchsorted(recording, np.arange(len(mixtures) + 1))
    threshold = 0.5 if separator.target == "ibm" else np.sqrt(0.5)
    F, labels = [], []
    for k, train_pairs in enumerate(trains):
        train = np.flatnonzero(train_pairs[recording])
        mine = picked[fold[picked] == k]
        if len(mine) == 0 or len(train) == 0:
            continue
        estimator = clone(last).fit(*separator._subsample(X[train], Y[train], rng))
        chosen = np.unique(recording[mine])
        # One predict for the fold: its fixed cost would dominate short
        # recordings one by one.
        rows = np.concatenate([np.arange(starts[i], starts[i + 1]) for i in chosen])
        raw_all = separator._predict_rows(X[rows], estimator)
        offset = 0
        for i in chosen:
            y, s0, n = mixtures[i], starts[i], starts[i + 1] - starts[i]
            raw = raw_all[offset : offset + n]
            offset += n
            M = np.abs(stft_frames(y, 0, n, **separator._stft))
            level = float(analysis.scales(y)[0])
            floor, noise = recording_statistics(M, raw)
            for t in mine[recording[mine] == i] - s0:
                r0 = max(t - MARGIN, 0)
                window = raw[r0 : t + 1 + MARGIN]
                F.append(
                    refine_features(window, r0, M, 0, t, t + 1, n, floor, level, noise)
                )
                labels.append(Y[s0 + t] >= threshold)
    if not F:
        if separator.refine != "auto":
            raise ValueError(
                "Expected some training pairs whose groups all fall in one "
                "fold, got none: with two columns of groups (speaker, noise "
                "type), pass more pairs or refine=False."
            )
        return None
    return MaskRefiner(sr=separator.sr, random_state=rng.randint(2**31 - 1)).fit(
        np.concatenate(F), np.concatenate(labels)
    )
