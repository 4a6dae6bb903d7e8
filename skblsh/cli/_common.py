"""What the sub-commands share: messages, the separators they build, the
results table."""

import sys
import time
import warnings

from ..datasets import (
    AudioFileError,
)
from ..metrics import separation_report
from ..persistence import load_model
from ..separation import (
    MaskingSeparator,
    apply_masks,
    ideal_binary_mask,
    make_separator_pipeline,
)

_USER_ERRORS = (ValueError, TypeError, FileNotFoundError, OSError, AudioFileError)


def _say(*args, quiet=False):
    if not quiet:
        print(*args, flush=True)


def _build_separator(args, random_state):
    level = None if args.level == "none" else args.level
    pipeline = make_separator_pipeline(
        args.n_bits,
        args.n_neighbors,
        hasher=None if args.hasher == "none" else args.hasher,
        kind=args.kind,
        # Level-normalised frames keep their level; the paper's are unit rows.
        normalize=level is None,
        n_stacked=2 * args.context + 1,
        random_state=random_state,
    )
    return MaskingSeparator(
        pipeline,
        level=level,
        context=args.context,
        mask_median=args.mask_median,
        mask_smoothing=args.mask_smoothing,
        mask_bias=args.mask_bias,
        random_state=random_state,
    )


def _oracle(mixtures, sources):
    masks = [ideal_binary_mask(m, s) for m, s in zip(mixtures, sources, strict=True)]
    return apply_masks(mixtures, masks)


def _table(rows):
    """Markdown table of (name, report, fit_s, predict_s) rows.

    STOI is a column when every report has it, PESQ-WB when every report
    has it (the optional ``pesq`` package is installed).
    """
    quality = [
        (key, label, digits)
        for key, label, digits in [("stoi", "STOI", 3), ("pesq_wb", "PESQ-WB", 2)]
        if all(key in rep for _, rep, _, _ in rows)
    ]
    header = ["method", "SDR (dB)", "SIR (dB)", "SAR (dB)"]
    header += [label for _, label, _ in quality] + ["fit (s)", "predict (s)"]
    lines = [
        "| " + " | ".join(header) + " |",
        "|---|" + "---:|" * (len(header) - 1),
    ]
    for name, rep, fit_s, pred_s in rows:
        cells = [name] + [f"{rep[f'{k}_weighted']:.2f}" for k in ("sdr", "sir", "sar")]
        cells += [f"{rep[f'{key}_weighted']:.{d}f}" for key, _, d in quality]
        cells += ["" if t is None else f"{t:.1f}" for t in (fit_s, pred_s)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _evaluate_systems(systems, train, test, *, quiet=False):
    """Fit each system on train, score it on test; returns table rows."""
    rows = []
    estimates_by_name = {}
    for name, separator in systems:
        fit_s = pred_s = None
        if separator == "oracle":
            estimates = _oracle(test["mixtures"], test["sources"])
        elif separator == "mixture":
            estimates = test["mixtures"]
        else:
            _say(f"[skblsh] fitting {name} ...", quiet=quiet)
            t0 = time.perf_counter()
            separator.fit(train["mixtures"], train["sources"])
            fit_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            estimates = separator.predict(test["mixtures"])
            pred_s = time.perf_counter() - t0
        _say(f"[skblsh] scoring {name} ...", quiet=quiet)
        report = separation_report(test["sources"], estimates, test["mixtures"])
        rows.append((name, report, fit_s, pred_s))
        estimates_by_name[name] = estimates
    return rows, estimates_by_name


def _load_separator(path, mask_bias=None):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model, metadata = load_model(path, return_metadata=True)
    for w in caught:
        print(f"skblsh: note: {w.message}", file=sys.stderr)
    if not isinstance(model, MaskingSeparator):
        raise ValueError(
            f"Expected '{path}' to hold a MaskingSeparator, got {type(model).__name__}."
        )
    if mask_bias is not None:
        model.set_params(mask_bias=mask_bias)
        # A bias the model cannot take fails here, before any file is read.
        model._mask_bias()
    return model, metadata
