"""Binary hashing transformers emitting packed codes: random and boosted LSH.

Both transformers map ``X`` of shape ``(n_samples, n_features)`` to packed
codes of shape ``(n_samples, ceil(n_bits / 8))`` and dtype uint8, bit ``l`` of
a row being ``x @ projections_[l] + intercepts_[l] > 0``, packed with
``np.packbits(bits, axis=1, bitorder="little")``. This is the layout of faiss'
binary indexes, so codes can be handed to ``faiss.IndexBinaryFlat`` as they
are. Padding bits of the last byte are always zero, so they never add Hamming
distance.

The modules read as the data flow: ``_base`` holds the one ``fit`` and
``transform`` (validate, learn the projections, threshold and pack),
``_random`` draws Gaussian directions, ``_boosting`` is the machinery behind
``_boosted``, which learns directions bit by bit.
"""

from ._boosted import BoostedLSH
from ._random import RandomLSH

__all__ = ["BoostedLSH", "RandomLSH"]
