"""The small speech + noise data set shipped inside the package."""

from numbers import Real
from pathlib import Path

from ..utils._sklearn import Interval, validate_params
from ._task import make_separation_task

__all__ = ["get_demo_path", "load_demo"]

DATA = Path(__file__).resolve().parent / "data"

DESCR = """\
skblsh demo data
----------------

A closed-protocol speech denoising task built from the audio vendored in
``skblsh/datasets/data`` (16 kHz mono 16-bit FLAC, 3.7 MB):

- speech: 3 speakers (en_f_allison, fr_f_june, it_m_carlo; studio IVR
  prompts from the Asterisk core sounds) x 12 utterances of 1.5-4 s;
- noise: 6 types (birds, fire, jungle, rain, stream, wind) x 2 clips of
  5-6 s (game ambience from 0 A.D., MegaGlest, Minetest, SuperTuxKart).

Per speaker, 9 utterances are used for training and 3 for testing; per noise
type, one clip is used for training and the other for testing. Each training
utterance is mixed with 2 different noise types (54 training mixtures), each
test utterance with one (9 test mixtures), at the requested SNR.

Licenses: CC0-1.0, CC-BY-3.0 and CC-BY-SA-3.0 (per file in data/manifest.csv
and data/ATTRIBUTION.md); the audio is not covered by skblsh's BSD license.
"""


def get_demo_path():
    """Return the folder of the vendored demo data.

    It holds ``manifest.csv`` in the same layout as a corpus for
    :func:`load_corpus`, ``ATTRIBUTION.md`` and the FLAC files.

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> from skblsh.datasets import get_demo_path
    >>> (get_demo_path() / "manifest.csv").is_file()
    True
    """
    return DATA


@validate_params(
    {
        "snr_db": [Interval(Real, None, None, closed="neither")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def load_demo(*, snr_db=0.0, random_state=0):
    """Load the demo speech denoising task (no download, ships with skblsh).

    Three speakers, six noise types; training utterances are each mixed with
    two noise types, test mixtures use held-out utterances and held-out noise
    clips of the same types (the closed protocol of
    :func:`make_separation_task`). A kNN separator fits, predicts and is
    scored on it in seconds.

    Parameters
    ----------
    snr_db : float, default=0.0
        SNR of every mixture, in dB.
    random_state : int, RandomState instance or None, default=0
        Controls the train/test split, the noise draws and the crops; the
        output is identical for a fixed int.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes:

        mixtures_train : list of 54 ndarray of shape (n_samples_i,), dtype=float32
            The training mixtures.
        sources_train : list of 54 ndarray, dtype=float32
            Clean speech of each training mixture.
        noises_train : list of 54 ndarray, dtype=float32
            Scaled noise of each training mixture.
        groups_train : ndarray of shape (54,), dtype=int64
            Utterance id of each training mixture (27 ids, each twice): use
            it as ``groups`` for cross-validation.
        speakers_train, noise_types_train : ndarray of shape (54,), dtype=str
            Speaker and noise type of each training mixture.
        mixtures_test, sources_test, noises_test : list of 9 ndarray
            The test mixtures, their speech and their noise.
        groups_test, speakers_test, noise_types_test : ndarray of shape (9,)
            Utterance id, speaker and noise type of each test mixture.
        sr : int
            Sample rate, 16000.
        DESCR : str
            Description of the data set.

        plus the other keys of :func:`make_separation_task`.

    See Also
    --------
    make_separation_task : The same protocols on a full corpus.
    get_demo_path : Folder of the vendored files, e.g. for :func:`load_corpus`.

    Examples
    --------
    >>> from skblsh.datasets import load_demo
    >>> demo = load_demo(snr_db=0.0, random_state=0)
    >>> len(demo.mixtures_train), len(demo.mixtures_test), demo.sr
    (54, 9, 16000)
    >>> len(set(demo.groups_train) & set(demo.groups_test))
    0
    """
    data = make_separation_task(
        DATA,
        protocol="closed",
        test_size=0.25,
        n_noises=2,
        snr_db=snr_db,
        random_state=random_state,
    )
    data["DESCR"] = DESCR + "\n" + data["DESCR"] + "\n"
    return data
