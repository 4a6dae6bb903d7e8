"""Audio I/O, noisy-speech mixtures, the vendored demo data and corpus loaders."""

from ._corpus import load_corpus, make_separation_task
from ._demo import get_demo_path, load_demo
from ._fashion_mnist import load_fashion_mnist
from ._folders import load_audio_folder, load_demand, load_timit
from ._io import AudioConversionWarning, AudioFileError, read_audio, write_audio
from ._mixing import make_mixtures

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
    "read_audio",
    "write_audio",
]
