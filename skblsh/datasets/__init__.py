"""Audio I/O, noisy-speech mixtures, the vendored demo data and corpus loaders.

Randomness follows one rule. Functions that *make* random data from their
inputs (:func:`make_mixtures`, :func:`make_separation_task`) default to
``random_state=None``, as scikit-learn's ``make_*`` functions do: pass an int
for reproducible output. :func:`load_demo` *loads* one fixed, documented data
set and defaults to ``random_state=0``, so that ``load_demo()`` is the same
everywhere. The loaders of local folders draw nothing at random.
"""

from ._corpus import load_corpus
from ._demo import get_demo_path, load_demo
from ._fashion_mnist import load_fashion_mnist
from ._folders import load_audio_folder, load_demand, load_timit
from ._io import AudioConversionWarning, AudioFileError, read_audio, write_audio
from ._mixing import make_mixtures
from ._synthetic import make_synthetic_noise
from ._task import make_separation_task

__all__ = [
    "AudioConversionWarning",
    "AudioFileError",
    "get_demo_path",
    "load_audio_folder",
    "load_corpus",
    "load_demand",
    "load_demo",
    "load_fashion_mnist",
    "load_timit",
    "make_mixtures",
    "make_separation_task",
    "make_synthetic_noise",
    "read_audio",
    "write_audio",
]
