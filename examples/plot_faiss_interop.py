"""
=====================================
Packed codes in a FAISS binary index
=====================================

skblsh packs codes the way faiss' binary indexes expect them: ``L`` bits in
``L / 8`` uint8 bytes per row. A :class:`faiss.IndexBinaryFlat` therefore
takes the output of :class:`~skblsh.RandomLSH` or :class:`~skblsh.BoostedLSH`
as it is, and returns the same Hamming distances as
:class:`~skblsh.HammingNearestNeighbors`. faiss is optional
(``pip install faiss-cpu``); without it this example only says so.
"""

import numpy as np
from sklearn.datasets import load_digits

from skblsh import HammingNearestNeighbors, RandomLSH

try:
    import faiss
except ImportError:
    faiss = None

X, _ = load_digits(return_X_y=True)
hasher = RandomLSH(n_bits=64, random_state=0).fit(X[:1500])
database, queries = hasher.transform(X[:1500]), hasher.transform(X[1500:])
print(database.dtype, database.shape)  # uint8, 64 bits = 8 bytes per row

ours = HammingNearestNeighbors(n_neighbors=5).fit(database)
dist, ind = ours.kneighbors(queries)

if faiss is None:
    print("faiss is not installed; skipping the comparison.")
else:
    index = faiss.IndexBinaryFlat(8 * database.shape[1])  # dimension in bits
    index.add(database)
    dist_faiss, ind_faiss = index.search(queries, 5)
    # Distances agree exactly; indices may differ only among ties.
    print("same distances:", np.array_equal(dist, dist_faiss))
    print("same neighbours:", np.mean(ind == ind_faiss))
