"""
============================================================
Neighbour graphs of binary codes: clustering and embedding
============================================================

:class:`~skblsh.HammingNearestNeighbors` builds the sparse neighbour graphs
scikit-learn's precomputed-graph consumers take, so binary codes plug into
clustering and manifold learning as they are. Here 64-bit
:class:`~skblsh.RandomLSH` codes of the handwritten digits feed

* :class:`~sklearn.cluster.SpectralClustering` with
  ``affinity="precomputed_nearest_neighbors"`` (a k-nearest-neighbour graph),
* :class:`~sklearn.manifold.Isomap` with ``metric="precomputed"`` (a graph
  of Hamming distances), for a 2-D picture,

and the clustering is scored against the digit labels (adjusted Rand index),
beside the same clustering on the float pixels.
"""

import os

import matplotlib.pyplot as plt
from sklearn.cluster import SpectralClustering
from sklearn.datasets import load_digits
from sklearn.manifold import Isomap
from sklearn.metrics import adjusted_rand_score
from sklearn.neighbors import kneighbors_graph
from sklearn.preprocessing import StandardScaler

from skblsh import HammingNearestNeighbors, RandomLSH

QUICK = bool(os.environ.get("SKBLSH_EXAMPLES_QUICK"))
X, y = load_digits(return_X_y=True)
if QUICK:
    X, y = X[:800], y[:800]
X = StandardScaler().fit_transform(X)
K = 10

# %%
# Codes and their neighbour graphs: 16 bytes per image instead of 512.
codes = RandomLSH(128, random_state=0).fit_transform(X)
nn = HammingNearestNeighbors(n_neighbors=K).fit(codes)
graph = nn.kneighbors_graph(mode="distance")  # each code's K nearest others
print(f"{codes.shape[0]} codes of {codes.shape[1]} bytes; graph with {graph.nnz} edges")

# %%
# Spectral clustering on the Hamming graph and on the float features' graph.
scores = {}
for name, G in [
    ("128-bit codes", graph),
    ("float pixels", kneighbors_graph(X, K, mode="distance")),
]:
    labels = SpectralClustering(
        n_clusters=10, affinity="precomputed_nearest_neighbors", random_state=0
    ).fit_predict(G)
    scores[name] = adjusted_rand_score(y, labels)
    print(f"spectral clustering on {name}: ARI {scores[name]:.3f}")

# %%
# Isomap needs each point as its own first neighbour (as
# :class:`~sklearn.neighbors.KNeighborsTransformer` produces): query the codes
# themselves, with one neighbour more.
embedding = Isomap(n_neighbors=K, n_components=2, metric="precomputed").fit_transform(
    nn.kneighbors_graph(codes, n_neighbors=K + 1, mode="distance")
)
fig, ax = plt.subplots(figsize=(6, 5))
points = ax.scatter(*embedding.T, c=y, cmap="tab10", s=6)
fig.colorbar(points, ax=ax, label="digit")
ax.set_title("Isomap of 128-bit codes (Hamming neighbour graph)")
fig.tight_layout()
plt.show()
