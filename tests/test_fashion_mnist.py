"""Tests of skblsh.datasets._fashion_mnist (load_fashion_mnist)."""

import gzip

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.utils._param_validation import InvalidParameterError

from skblsh.datasets._fashion_mnist import DEFAULT_PATH, FILES, load_fashion_mnist


def _write_idx(path, values, magic=None):
    values = np.asarray(values, dtype=np.uint8)
    if magic is None:
        magic = 0x800 + values.ndim
    header = np.array([magic, *values.shape], dtype=">i4").tobytes()
    with gzip.open(path, "wb") as f:
        f.write(header + values.tobytes())


@pytest.fixture
def fake_folder(tmp_path):
    """Five 3 x 2 training images and three test images with known values."""
    rng = np.random.RandomState(0)
    arrays = {
        "data_train": rng.randint(0, 256, size=(5, 3, 2)),
        "target_train": [9, 0, 3, 9, 1],
        "data_test": rng.randint(0, 256, size=(3, 3, 2)),
        "target_test": [2, 7, 5],
    }
    for key, name in FILES.items():
        _write_idx(tmp_path / name, arrays[key])
    return tmp_path, arrays


def test_reads_the_idx_files_as_shipped(fake_folder):
    folder, arrays = fake_folder
    data = load_fashion_mnist(folder)
    assert data.data_train.shape == (5, 6)
    assert data.data_train.dtype == np.uint8
    assert data.data_test.shape == (3, 6)
    # Row-major flattening: row i is image i read line by line.
    assert_array_equal(data.data_train, np.reshape(arrays["data_train"], (5, 6)))
    assert_array_equal(data.data_test[2].reshape(3, 2), arrays["data_test"][2])
    assert data.target_train.dtype == np.int64
    assert_array_equal(data.target_train, [9, 0, 3, 9, 1])
    assert_array_equal(data.target_test, [2, 7, 5])
    assert data.images_shape == (3, 2)
    assert data.target_names[9] == "Ankle boot" and len(data.target_names) == 10
    assert "MIT" in data.DESCR
    # Writeable arrays (not views of an immutable bytes object).
    data.data_train[0, 0] = 7
    # A str path works as well as a Path.
    assert_array_equal(load_fashion_mnist(str(folder)).target_test, [2, 7, 5])


def test_missing_files_name_the_debian_package(tmp_path, fake_folder):
    with pytest.raises(FileNotFoundError, match=r"apt-get install dataset-fashion"):
        load_fashion_mnist(tmp_path / "nowhere")
    folder, _ = fake_folder
    (folder / FILES["target_test"]).unlink()
    with pytest.raises(
        FileNotFoundError, match=r"got no t10k-labels-idx1-ubyte.gz\. Install"
    ):
        load_fashion_mnist(folder)


def test_corrupt_files_are_rejected(fake_folder):
    folder, arrays = fake_folder
    # Labels written as a 2-D array: wrong magic number.
    _write_idx(folder / FILES["target_train"], np.zeros((5, 1)))
    with pytest.raises(ValueError, match=r"magic number 0x00000801.*got 0x00000802"):
        load_fashion_mnist(folder)
    # One label short of the images.
    _write_idx(folder / FILES["target_train"], [1, 2, 3, 4])
    with pytest.raises(ValueError, match=r"got 4 labels and 5 images"):
        load_fashion_mnist(folder)
    # A truncated image file.
    with gzip.open(folder / FILES["data_test"], "wb") as f:
        f.write(np.array([0x803, 3, 3, 2], dtype=">i4").tobytes() + bytes(10))
    _write_idx(folder / FILES["target_train"], arrays["target_train"])
    with pytest.raises(ValueError, match=r"Expected 18 values of shape \(3, 3, 2\)"):
        load_fashion_mnist(folder)
    with gzip.open(folder / FILES["data_test"], "wb") as f:
        f.write(bytes(3))
    with pytest.raises(ValueError, match=r"16-byte header, got 3 bytes"):
        load_fashion_mnist(folder)
    # Test images of another shape than the training images.
    _write_idx(folder / FILES["data_test"], np.zeros((3, 2, 3)))
    with pytest.raises(ValueError, match=r"images of one shape.*\(2, 3\), \(3, 2\)"):
        load_fashion_mnist(folder)


def test_path_must_be_a_path():
    with pytest.raises(InvalidParameterError, match="'path' parameter"):
        load_fashion_mnist(3)


def test_real_files_when_installed():
    if not all((DEFAULT_PATH / name).is_file() for name in FILES.values()):
        pytest.skip(f"Fashion-MNIST not installed in {DEFAULT_PATH}")
    data = load_fashion_mnist()
    assert data.data_train.shape == (60000, 784)
    assert data.data_test.shape == (10000, 784)
    assert data.images_shape == (28, 28)
    assert_array_equal(np.bincount(data.target_train), [6000] * 10)
    assert_array_equal(np.bincount(data.target_test), [1000] * 10)
    # First labels and pixel sums of the files as shipped (Zalando's release).
    assert_array_equal(data.target_train[:5], [9, 0, 0, 3, 0])
    assert_array_equal(data.target_test[:5], [9, 2, 1, 1, 6])
    assert data.data_train.sum(dtype=np.int64) == 3431114169
    assert data.data_test.sum(dtype=np.int64) == 573469082
