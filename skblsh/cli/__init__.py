"""The ``skblsh`` command: demo, fit, denoise, evaluate.

Every failure the user can cause (bad file, bad model, bad option) ends in a
one-line ``skblsh: error: ...`` message and a non-zero exit status, and no
output file is ever left half-written (all writes are temp file + rename).
"""

import argparse
import sys

from .._version import __version__
from ._common import _USER_ERRORS
from ._demo import _cmd_demo
from ._denoise import _cmd_denoise
from ._task import _cmd_evaluate, _cmd_fit

__all__ = ["main"]


def _add_model_options(p):
    p.add_argument("--n-bits", type=int, default=64, help="code length L (default 64)")
    p.add_argument(
        "--n-neighbors", type=int, default=30, help="neighbours K (default 30)"
    )
    p.add_argument("--random-state", type=int, default=0, help="seed (default 0)")


def _mask_bias(text):
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected 'auto' or a number (log-odds), got {text!r}"
        ) from None


def _add_mask_bias(p, default):
    p.add_argument(
        "--mask-bias",
        type=_mask_bias,
        default=default,
        metavar="auto|LOGODDS",
        help="added to the refined masks' log-odds: below 0 removes more noise "
        "(higher SDR, lower STOI), above 0 keeps more speech; 'auto' removes "
        "more below 100 Hz and above 4.4 kHz only"
        + (" (default auto)" if default else " (default: the model's)"),
    )


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="skblsh",
        description="Learned binary hashing and kNN speech denoising.",
    )
    parser.add_argument("--version", action="version", version=f"skblsh {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true", help="less output")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "demo", help="denoise the embedded demo set; print a Table-1-style report"
    )
    p.add_argument("--out", default="demo_out", help="output folder (default demo_out)")
    p.add_argument(
        "--quick", action="store_true", help="faster, smaller BoostedLSH training"
    )
    _add_model_options(p)
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser("fit", help="fit a separator and save it")
    p.add_argument(
        "--corpus",
        action="append",
        default=None,
        metavar="FOLDER",
        help="corpus folder with manifest.csv; repeat to pool several corpora "
        "(default: the embedded demo data)",
    )
    p.add_argument("-o", "--output", required=True, help="model file to write")
    p.add_argument("--hasher", choices=["boosted", "random", "none"], default="boosted")
    p.add_argument("--kind", choices=["stft", "mel", "log-mel", "mfcc"], default="stft")
    p.add_argument(
        "--level",
        choices=["recording", "running", "none"],
        default="recording",
        help="level normalisation of the frames (default: the recording's RMS; "
        "'none' with per-frame L2 features is the paper's)",
    )
    p.add_argument("--context", type=int, default=0, help="frames stacked on each side")
    p.add_argument(
        "--mask-median",
        type=int,
        default=2,
        help="radius in frames of the mask's running median (default 2)",
    )
    p.add_argument(
        "--mask-smoothing",
        type=int,
        default=2,
        help="radius in frames of the mask's moving average (default 2)",
    )
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "--dictionary-frames",
        type=int,
        default=100_000,
        help="frames kept in the dictionary, drawn at random from all the "
        "training frames (default 100000, about 7 MB at 64 bits)",
    )
    size.add_argument(
        "--dictionary-fraction",
        type=float,
        default=None,
        help="fraction of the training frames kept instead (1 keeps all)",
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=256,
        help="training mixtures per batch; memory holds one batch's frames "
        "(default 256; the first batch, which also trains the hasher and the "
        "refiner, holds at least 1024)",
    )
    p.add_argument("--protocol", choices=["closed", "open"], default="closed")
    p.add_argument(
        "--max-utterances",
        type=int,
        default=None,
        help="utterances per speaker (default: all)",
    )
    p.add_argument(
        "--snr-db",
        nargs="+",
        type=float,
        default=0.0,
        metavar="DB",
        help="SNR of the train and test mixtures, or a LOW HIGH range drawn per "
        "mixture (default 0)",
    )
    p.add_argument(
        "--gain-db",
        nargs="+",
        type=float,
        default=None,
        metavar="DB",
        help="training mixtures: overall level change in dB, or a LOW HIGH range",
    )
    p.add_argument(
        "--noises-per-mixture",
        type=int,
        default=1,
        metavar="N",
        help="training mixtures: noise types summed per mixture (default 1)",
    )
    p.add_argument(
        "--speed",
        nargs="+",
        type=float,
        default=None,
        metavar="FACTOR",
        help="training speech: speed factor (pitch kept), or a LOW HIGH range",
    )
    p.add_argument(
        "--pitch-semitones",
        nargs="+",
        type=float,
        default=None,
        metavar="ST",
        help="training speech: pitch shift in semitones, or a LOW HIGH range",
    )
    p.add_argument(
        "--noise-shift",
        nargs="+",
        type=float,
        default=None,
        metavar="OCTAVES",
        help="training noise: frequency shift in octaves, or a LOW HIGH range "
        "(default -1 1 with --corpus; 0 turns it off)",
    )
    p.add_argument(
        "--noise-tilt",
        nargs="+",
        type=float,
        default=None,
        metavar="DB",
        help="training noise: spectral tilt in dB per octave, or a LOW HIGH range "
        "(default -6 6 with --corpus; 0 turns it off)",
    )
    p.add_argument(
        "--synthetic-noise",
        type=float,
        default=None,
        metavar="FRACTION",
        help="training mixtures: add this fraction more, with synthetic insect-, "
        "bird- and workshop-like noise (default none)",
    )
    _add_model_options(p)
    _add_mask_bias(p, "auto")
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser("denoise", help="denoise audio files with a saved model")
    p.add_argument("--model", required=True, help="model file from 'skblsh fit'")
    p.add_argument(
        "inputs",
        nargs="+",
        help="audio files or folders (searched recursively; any rate; stereo is "
        "down-mixed)",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output folder (a folder input's sub-folders are kept under it)",
    )
    p.add_argument(
        "--n-jobs",
        type=int,
        default=None,
        metavar="N",
        help="files denoised at once, in threads (-1: one per core; default 1)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="denoise on a dask cluster, e.g. tcp://host:8786 (needs the 'dask' "
        "extra); files are read and written here",
    )
    _add_mask_bias(p, None)
    p.set_defaults(func=_cmd_denoise)

    p = sub.add_parser("evaluate", help="score a saved model on a corpus test split")
    p.add_argument("--model", required=True, help="model file from 'skblsh fit'")
    p.add_argument(
        "--corpus",
        default=None,
        help="corpus folder (default: the one the model was fitted on)",
    )
    p.add_argument("--protocol", choices=["closed", "open"], default=None)
    p.add_argument("--max-utterances", type=int, default=None)
    p.add_argument("--random-state", type=int, default=None)
    _add_mask_bias(p, None)
    p.set_defaults(func=_cmd_evaluate)
    return parser


def main(argv=None):
    """Run the ``skblsh`` command line; returns the exit status.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 1 when something failed, 2 for usage errors.

    Examples
    --------
    >>> from skblsh.cli import main
    >>> main(["--version"])
    Traceback (most recent call last):
    ...
    SystemExit: 0
    """
    args = _build_parser().parse_args(argv)
    try:
        return args.func(args)
    except _USER_ERRORS as exc:
        print(f"skblsh: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("skblsh: interrupted", file=sys.stderr)
        return 130
