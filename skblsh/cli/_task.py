"""``skblsh fit`` and ``skblsh evaluate``: a separation task from corpus folders,
fitted and saved, or rebuilt from a model's metadata and scored."""

import time
from pathlib import Path

import numpy as np

from ..datasets import (
    get_demo_path,
    load_demo,
    make_separation_task,
)
from ..metrics import separation_report
from ..persistence import save_model
from ..stft import n_frames
from ._common import _build_separator, _load_separator, _say, _table

# Options of make_separation_task that `skblsh fit` exposes, with the values
# `fit` stores when they are not given (the library's defaults).
_DIVERSITY = {
    "snr_db": 0.0,
    "gain_db": None,
    "noises_per_mixture": 1,
    "speed": None,
    "pitch_semitones": None,
    "noise_shift": None,
    "noise_tilt": None,
    "synthetic_noise": None,
}
# What `skblsh fit --corpus` trains with when these options are not given:
# noise types the corpus does not have, chosen on validation splits of
# unseen speakers and noise types (docs/user_guide/separator.rst).
RECOMMENDED_TRAINING = {"noise_shift": [-1.0, 1.0], "noise_tilt": [-6.0, 6.0]}


_FIRST_BATCH = 1024


def _range_option(values, name):
    """One number, or a [low, high] pair, from a ``nargs="+"`` option."""
    if values is None or not isinstance(values, list):
        return values
    if len(values) == 1:
        return values[0]
    if len(values) == 2:
        return list(values)
    raise ValueError(
        f"Expected --{name.replace('_', '-')} to be one value or a LOW HIGH pair, "
        f"got {len(values)} values."
    )


def _task_kwargs(args):
    kwargs = {
        "protocol": args.protocol,
        "max_utterances": args.max_utterances,
        "random_state": args.random_state,
    }
    for name in _DIVERSITY:
        kwargs[name] = _range_option(getattr(args, name), name)
    return kwargs


def _option_text(value):
    if isinstance(value, (list, tuple)):
        return " ".join(f"{v:g}" for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def _corpus_list(corpus):
    """None, or a list of corpus folders (old model files store one string)."""
    if corpus is None:
        return None
    if isinstance(corpus, (str, Path)):
        return [str(corpus)]
    return [str(c) for c in corpus]


def _load_task(corpus, kwargs, quiet):
    corpora = _corpus_list(corpus)
    if corpora is None:
        defaults = {"protocol": "closed", "max_utterances": None, **_DIVERSITY}
        ignored = [
            f"--{key.replace('_', '-')} {_option_text(kwargs.get(key))}"
            for key, default in defaults.items()
            if kwargs.get(key, default) != default
        ]
        if ignored:
            raise ValueError(
                f"Expected --corpus with {' and '.join(ignored)}, got none: the "
                "embedded demo set has a fixed closed-protocol split (its folder "
                f"is a corpus too: --corpus {get_demo_path()})."
            )
        return load_demo(random_state=kwargs["random_state"])
    _say(f"[skblsh] loading corpus {', '.join(corpora)} ...", quiet=quiet)
    return make_separation_task(corpora[0] if len(corpora) == 1 else corpora, **kwargs)


def _cmd_fit(args):
    kwargs = _task_kwargs(args)
    if args.corpus is not None:
        for name, value in RECOMMENDED_TRAINING.items():
            if kwargs[name] is None:
                kwargs[name] = value
    data = _load_task(args.corpus, kwargs, args.quiet)
    separator = _build_separator(args, args.random_state)
    mixtures, sources = data.mixtures_train, data.sources_train
    # About as many frames as the dictionary should hold, whatever the amount
    # of training audio: the search speed depends on the dictionary's size.
    total = sum(
        n_frames(len(m), n_fft=separator.n_fft, hop_length=separator.hop_length)
        for m in mixtures
    )
    if args.dictionary_fraction is not None:
        separator.set_params(dictionary_fraction=args.dictionary_fraction)
    else:
        separator.set_params(
            dictionary_fraction=min(1.0, args.dictionary_frames / total)
        )
    _say(
        f"[skblsh] fitting on {len(mixtures)} training mixtures ({total} "
        f"frames, keeping {separator.dictionary_fraction:.1%}) in batches of "
        f"{args.batch_size} ...",
        quiet=args.quiet,
    )
    t0 = time.perf_counter()
    # Batches keep memory to one batch's frames plus the dictionary; the
    # first batch, a random draw of every speaker and noise, trains the
    # hasher and the refiner. The refiner learns from masks of dictionaries
    # built on half that batch, so it gets at least _FIRST_BATCH mixtures
    # (about 300 MB of frames): dictionaries nearer the final one's size.
    order = np.random.default_rng(args.random_state).permutation(len(mixtures))
    first = max(args.batch_size, _FIRST_BATCH)
    starts = [0, *range(first, len(order), args.batch_size)]
    # Speaker and noise type: the refiner's folds then hold out both.
    groups = data.speaker_noise_train
    for start, stop in zip(starts, [*starts[1:], len(order)], strict=True):
        batch = order[start:stop]
        separator.partial_fit(
            [mixtures[i] for i in batch],
            [sources[i] for i in batch],
            groups=groups[batch],
        )
    corpora = _corpus_list(args.corpus)
    metadata = {
        # One corpus is stored as a string, as before several were possible.
        "corpus": corpora[0] if corpora and len(corpora) == 1 else corpora,
        "task": kwargs,
    }
    save_model(separator, args.output, metadata=metadata)
    _say(
        f"[skblsh] {separator.n_frames_} dictionary frames, fitted in "
        f"{time.perf_counter() - t0:.1f} s; saved {args.output}",
        quiet=args.quiet,
    )
    return 0


def _cmd_evaluate(args):
    separator, metadata = _load_separator(args.model, args.mask_bias)
    # Models saved before the diversity options existed store only protocol,
    # max_utterances and random_state; the others then take the library's
    # defaults, which is what those models were trained with.
    kwargs = dict(metadata.get("task") or {})
    for key in ("protocol", "max_utterances", "random_state"):
        if getattr(args, key) is not None:
            kwargs[key] = getattr(args, key)
    kwargs.setdefault("random_state", 0)
    # A string (one corpus, also every older model) or a list of folders.
    corpus = args.corpus if args.corpus is not None else metadata.get("corpus")
    data = _load_task(corpus, kwargs, args.quiet)
    test = {"mixtures": data.mixtures_test, "sources": data.sources_test}
    t0 = time.perf_counter()
    estimates = separator.predict(test["mixtures"])
    pred_s = time.perf_counter() - t0
    sr = data.sr
    rows = [
        (
            "model",
            separation_report(test["sources"], estimates, test["mixtures"], sr=sr),
            None,
            pred_s,
        ),
        (
            "Unprocessed mixture",
            separation_report(
                test["sources"], test["mixtures"], test["mixtures"], sr=sr
            ),
            None,
            None,
        ),
    ]
    print(_table(rows), flush=True)
    return 0
