"""The packed binary code format shared by the hashers and the indexes.

A code of ``n_bits`` bits is stored like a faiss binary vector: in
``ceil(n_bits / 8)`` bytes, bit ``l`` in byte ``l // 8`` at position
``l % 8`` (``np.packbits(..., bitorder="little")``). Padding bits of the last
byte are zero, so they never add Hamming distance. Distances are computed on
64-bit words (rows zero-padded to a multiple of 8 bytes), which is exact for
the same reason.
"""

import numpy as np

from .utils._sklearn import get_chunk_n_rows

__all__ = [
    "as_words",
    "check_codes",
    "hamming_distances",
    "n_bytes_for",
    "pack_bits",
    "unpack_bits",
]


def n_bytes_for(n_bits):
    """Number of bytes holding ``n_bits`` packed bits.

    Examples
    --------
    >>> from skblsh.codes import n_bytes_for
    >>> n_bytes_for(64), n_bytes_for(150)
    (8, 19)
    """
    return (int(n_bits) + 7) // 8


def check_codes(codes, *, name="codes"):
    """Validate packed codes: a 2-D uint8 array (or integers in [0, 255]).

    Floats are rejected rather than cast: a float array is almost always
    features that were meant to be hashed first.

    Parameters
    ----------
    codes : array-like of shape (n_samples, n_bytes)
        Packed codes.
    name : str, default="codes"
        Name used in error messages.

    Returns
    -------
    codes : ndarray of shape (n_samples, n_bytes), dtype=uint8
        The codes, not copied when already uint8.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.codes import check_codes
    >>> check_codes(np.array([[0, 255]])).dtype
    dtype('uint8')
    """
    arr = np.asarray(codes)
    if arr.ndim != 2:
        raise ValueError(
            f"Expected {name} to be a 2-D array of packed codes, got shape {arr.shape}."
        )
    if arr.dtype != np.uint8:
        if not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(
                f"Expected {name} to hold packed uint8 codes, got dtype "
                f"{arr.dtype}. Hash features first (RandomLSH/BoostedLSH)."
            )
        if arr.size and (arr.min() < 0 or arr.max() > 255):
            raise ValueError(
                f"Expected {name} to hold packed codes with values in [0, 255], "
                f"got values in [{arr.min()}, {arr.max()}]."
            )
        arr = arr.astype(np.uint8)
    return arr


def pack_bits(bits):
    """Pack a 0/1 matrix into little-bit-order uint8 codes.

    Parameters
    ----------
    bits : array-like of shape (n_samples, n_bits)
        Boolean or 0/1 integer matrix.

    Returns
    -------
    codes : ndarray of shape (n_samples, ceil(n_bits / 8)), dtype=uint8
        Packed codes; padding bits are zero.

    See Also
    --------
    unpack_bits : The inverse operation.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.codes import pack_bits
    >>> pack_bits(np.array([[1, 0, 0, 0, 0, 0, 0, 0, 1]]))
    array([[1, 1]], dtype=uint8)
    """
    bits = np.asarray(bits)
    if bits.ndim != 2:
        raise ValueError(
            f"Expected bits to be a 2-D array (n_samples, n_bits), got shape "
            f"{bits.shape}."
        )
    if bits.dtype != bool:
        if not np.isin(bits, (0, 1)).all():
            raise ValueError("Expected bits to contain only 0 and 1.")
        bits = bits.astype(bool)
    return np.packbits(bits, axis=1, bitorder="little")


def unpack_bits(codes, n_bits=None):
    """Unpack little-bit-order uint8 codes into a 0/1 uint8 matrix.

    Parameters
    ----------
    codes : array-like of shape (n_samples, n_bytes), dtype=uint8
        Packed codes.
    n_bits : int, default=None
        Number of bits to keep; defaults to ``8 * n_bytes``.

    Returns
    -------
    bits : ndarray of shape (n_samples, n_bits), dtype=uint8

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.codes import unpack_bits
    >>> unpack_bits(np.array([[5]], dtype=np.uint8), n_bits=4)
    array([[1, 0, 1, 0]], dtype=uint8)
    """
    codes = check_codes(codes, name="codes")
    max_bits = 8 * codes.shape[1]
    if n_bits is None:
        n_bits = max_bits
    if not 0 < n_bits <= max_bits:
        raise ValueError(
            f"Expected n_bits in [1, {max_bits}] for codes of {codes.shape[1]} "
            f"bytes, got {n_bits}."
        )
    return np.unpackbits(codes, axis=1, count=n_bits, bitorder="little")


def as_words(codes):
    """View packed uint8 codes as uint64 words, zero-padding each row.

    Returns a C-contiguous ``(n, ceil(n_bytes / 8))`` uint64 array, a view of
    ``codes`` (no copy) when they are C-contiguous with ``n_bytes % 8 == 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.codes import as_words
    >>> as_words(np.array([[1, 1]], dtype=np.uint8))
    array([[257]], dtype=uint64)
    """
    codes = np.ascontiguousarray(codes, dtype=np.uint8)
    n, n_bytes = codes.shape
    pad = (-n_bytes) % 8
    if pad:
        codes = np.concatenate([codes, np.zeros((n, pad), dtype=np.uint8)], axis=1)
    return codes.view(np.uint64)


def hamming_block(words_a, words_b):
    """Exact Hamming distances between two blocks of uint64 words.

    Memory is ``len(words_a) * len(words_b) * 8`` bytes per word: callers
    bound it by blocking the rows of ``words_a``.
    """
    out = np.zeros((words_a.shape[0], words_b.shape[0]), dtype=np.int32)
    for w in range(words_a.shape[1]):
        out += np.bitwise_count(words_a[:, w, None] ^ words_b[None, :, w])
    return out


def hamming_distances(A, B=None):
    """Exact pairwise Hamming distances between packed codes.

    Rows of ``A`` are processed in blocks bounded by scikit-learn's
    ``working_memory`` (see :func:`sklearn.config_context`).

    Parameters
    ----------
    A : array-like of shape (n_samples_A, n_bytes), dtype=uint8
        Packed codes.
    B : array-like of shape (n_samples_B, n_bytes), dtype=uint8, default=None
        Packed codes; defaults to ``A``.

    Returns
    -------
    distances : ndarray of shape (n_samples_A, n_samples_B), dtype=int32
        Number of differing bits.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.codes import hamming_distances
    >>> A = np.array([[0b0000], [0b0111]], dtype=np.uint8)
    >>> hamming_distances(A)
    array([[0, 3],
           [3, 0]], dtype=int32)
    """
    A = check_codes(A, name="A")
    B = A if B is None else check_codes(B, name="B")
    if A.shape[1] != B.shape[1]:
        raise ValueError(
            f"Expected A and B to have the same number of bytes per code, got "
            f"{A.shape[1]} and {B.shape[1]}."
        )
    wa, wb = as_words(A), as_words(B)
    out = np.empty((len(A), len(B)), dtype=np.int32)
    if out.size == 0:
        return out
    # The XOR temporary of one word dominates: 8 bytes per pair.
    step = get_chunk_n_rows(row_bytes=8 * max(len(B), 1), max_n_rows=len(A))
    for start in range(0, len(A), step):
        rows = slice(start, start + step)
        out[rows] = hamming_block(wa[rows], wb)
    return out
