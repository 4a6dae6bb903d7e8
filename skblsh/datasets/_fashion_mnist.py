"""Fashion-MNIST from a local copy (Debian's ``dataset-fashion-mnist``)."""

import gzip
import os
from pathlib import Path

import numpy as np
from sklearn.utils import Bunch

from ..utils._sklearn import validate_params

__all__ = ["load_fashion_mnist"]

# Where Debian's package `dataset-fashion-mnist` installs the four files.
DEFAULT_PATH = Path("/usr/share/datasets/fashion-mnist")

FILES = {
    "data_train": "train-images-idx3-ubyte.gz",
    "target_train": "train-labels-idx1-ubyte.gz",
    "data_test": "t10k-images-idx3-ubyte.gz",
    "target_test": "t10k-labels-idx1-ubyte.gz",
}

TARGET_NAMES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

DESCR = """\
Fashion-MNIST
-------------

Zalando's article images: 28 x 28 grey-level pictures of 10 kinds of clothing,
60,000 for training and 10,000 for testing (the split as shipped), 6,000 and
1,000 per class. A drop-in replacement for MNIST that is harder for
nearest-neighbour search.

H. Xiao, K. Rasul and R. Vollgraf, "Fashion-MNIST: a Novel Image Dataset for
Benchmarking Machine Learning Algorithms", arXiv:1708.07747, 2017.
https://github.com/zalandoresearch/fashion-mnist

License: MIT (Expat), Copyright 2017 Zalando SE. skblsh does not ship or
download the data: install Debian's package ``dataset-fashion-mnist`` or pass
the folder of the four ``*-ubyte.gz`` files.
"""

# idx magic numbers: two zero bytes, the type code (0x08: unsigned byte), the
# number of dimensions.
_MAGIC = {1: 0x00000801, 3: 0x00000803}


def _read_idx(path, ndim):
    """Read one gzip-compressed idx file of unsigned bytes."""
    with gzip.open(path, "rb") as f:
        # A bytearray, so the arrays viewing it are writeable.
        raw = bytearray(f.read())
    header = 4 * (ndim + 1)
    if len(raw) < header:
        raise ValueError(
            f"Expected an idx file with a {header}-byte header, got {len(raw)} "
            f"bytes in '{path}'."
        )
    magic, *shape = np.frombuffer(raw[:header], dtype=">i4").tolist()
    if magic != _MAGIC[ndim]:
        raise ValueError(
            f"Expected idx magic number {_MAGIC[ndim]:#010x} (unsigned bytes, "
            f"{ndim} dimension(s)) in '{path}', got {magic:#010x}."
        )
    n_values = int(np.prod(shape))
    if len(raw) - header != n_values:
        raise ValueError(
            f"Expected {n_values} values of shape {tuple(shape)} in '{path}', "
            f"got {len(raw) - header} bytes after the header."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


@validate_params(
    {"path": [str, os.PathLike, None]},
    prefer_skip_nested_validation=True,
)
def load_fashion_mnist(path=None):
    """Load Fashion-MNIST (train and test split as shipped) from local files.

    Reads the four gzip-compressed idx files ``train-images-idx3-ubyte.gz``,
    ``train-labels-idx1-ubyte.gz``, ``t10k-images-idx3-ubyte.gz`` and
    ``t10k-labels-idx1-ubyte.gz``. Nothing is downloaded: on Debian and
    Ubuntu, ``apt-get install dataset-fashion-mnist`` installs them in
    ``/usr/share/datasets/fashion-mnist``, the default folder. The data are
    MIT-licensed (Copyright 2017 Zalando SE).

    Parameters
    ----------
    path : str or path-like, default=None
        Folder holding the four files. None means the folder of Debian's
        package ``dataset-fashion-mnist``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with:

        data_train : ndarray of shape (60000, 784), dtype=uint8
            Training images, one flattened 28 x 28 image per row (row-major),
            grey levels 0 (background) to 255, as stored: scale them as your
            method needs (e.g. ``data_train / 255``), a float copy costing 4
            or 8 times the memory.
        target_train : ndarray of shape (60000,), dtype=int64
            Class of each training image, 0 to 9.
        data_test : ndarray of shape (10000, 784), dtype=uint8
            Test images, in the layout of ``data_train``.
        target_test : ndarray of shape (10000,), dtype=int64
            Class of each test image.
        target_names : list of str
            Name of each class, e.g. ``target_names[9] == "Ankle boot"``.
        images_shape : tuple of int
            ``(28, 28)``: ``data_train[i].reshape(images_shape)`` is image i.
        DESCR : str
            Description, reference and license.

    Raises
    ------
    FileNotFoundError
        If one of the four files is missing (the message names the Debian
        package that provides them).
    ValueError
        If a file is not an idx file of the expected shape.

    Examples
    --------
    >>> import tempfile
    >>> from skblsh.datasets import load_fashion_mnist
    >>> with tempfile.TemporaryDirectory() as empty:
    ...     try:
    ...         load_fashion_mnist(empty)
    ...     except FileNotFoundError as exc:
    ...         print("dataset-fashion-mnist" in str(exc))
    True
    """
    folder = DEFAULT_PATH if path is None else Path(path)
    missing = [name for name in FILES.values() if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"Expected the four Fashion-MNIST files in path='{folder}', got no "
            f"{', '.join(missing)}. Install them with `apt-get install "
            f"dataset-fashion-mnist` (Debian/Ubuntu; into {DEFAULT_PATH}) or "
            "pass the folder holding them; skblsh never downloads data."
        )
    arrays, shapes = {}, set()
    for key, name in FILES.items():
        if key.startswith("data"):
            images = _read_idx(folder / name, ndim=3)
            shapes.add(images.shape[1:])
            arrays[key] = images.reshape(len(images), -1)
        else:
            arrays[key] = _read_idx(folder / name, ndim=1).astype(np.int64)
    if len(shapes) > 1:
        raise ValueError(
            f"Expected train and test images of one shape in '{folder}', got "
            f"{sorted(shapes)}."
        )
    for subset in ("train", "test"):
        n_images = len(arrays[f"data_{subset}"])
        n_labels = len(arrays[f"target_{subset}"])
        if n_images != n_labels:
            raise ValueError(
                f"Expected as many {subset} labels as {subset} images in "
                f"'{folder}', got {n_labels} labels and {n_images} images."
            )
    (images_shape,) = shapes
    return Bunch(
        **arrays,
        target_names=list(TARGET_NAMES),
        images_shape=images_shape,
        DESCR=DESCR,
    )
