"""Retrieval quality of a ranking: precision, recall and mean AP at k.

The input is what :meth:`HammingNearestNeighbors.kneighbors` returns: for
each query, database indices nearest first (and, optionally, their
distances). An item is relevant to a query either when their labels agree
(single labels, or multi-hot label sets sharing a class) or when it is one of
the query's given true neighbours (e.g. its exact Euclidean 10-NN).

Hamming distances tie a lot. Without ``distances`` the ranking is taken as
given (kneighbors breaks ties by the smaller index, an order unrelated to
relevance). With ``distances``, items at equal distance form tie groups and
every metric is its expected value over the random orderings of each group
(McSherry and Najork, 2008), computed in closed form: the expected count of
relevant items above the cut, and for AP a hypergeometric sum over how many
relevant items of the group straddling the cut land inside it.
"""

import warnings
from numbers import Integral

import numpy as np
from scipy.stats import hypergeom
from sklearn.exceptions import UndefinedMetricWarning

from ..utils._sklearn import Interval, get_chunk_n_rows, validate_params

_CONSTRAINTS = {
    "neighbors": ["array-like"],
    "k": [Interval(Integral, 1, None, closed="left"), None],
    "query_labels": ["array-like", None],
    "database_labels": ["array-like", None],
    "true_neighbors": ["array-like", None],
    "distances": ["array-like", None],
}


def _check_indices(a, *, name, n_rows=None):
    a = np.asarray(a)
    if a.ndim != 2 or a.shape[1] == 0:
        raise ValueError(
            f"Expected {name} to be a 2-D array of shape (n_queries, n_items) with "
            f"n_items >= 1, got shape {a.shape}."
        )
    if not np.issubdtype(a.dtype, np.integer):
        raise TypeError(f"Expected {name} to hold integer indices, got {a.dtype}.")
    if n_rows is not None and a.shape[0] != n_rows:
        raise ValueError(
            f"Expected {name} to have one row per query ({n_rows}), got {a.shape[0]}."
        )
    if a.size and a.min() < 0:
        raise ValueError(
            f"Expected {name} to hold non-negative indices, got {a.min()} (a "
            "missing result such as faiss's -1?)."
        )
    ordered = np.sort(a, axis=1)
    repeated = np.nonzero(np.any(ordered[:, 1:] == ordered[:, :-1], axis=1))[0]
    if repeated.size:
        raise ValueError(
            f"Expected each row of {name} to hold distinct indices, got a repeated "
            f"index in row {repeated[0]}."
        )
    return a.astype(np.int64, copy=False)


def _check_labels(query_labels, database_labels, neighbors):
    query_labels = np.asarray(query_labels)
    database_labels = np.asarray(database_labels)
    n_queries = neighbors.shape[0]
    if query_labels.ndim not in (1, 2) or query_labels.ndim != database_labels.ndim:
        raise ValueError(
            "Expected query_labels and database_labels to be both 1-D (one label "
            "per item) or both 2-D (multi-hot label sets), got shapes "
            f"{query_labels.shape} and {database_labels.shape}."
        )
    if query_labels.shape[0] != n_queries:
        raise ValueError(
            f"Expected query_labels to have one entry per query ({n_queries}), got "
            f"{query_labels.shape[0]}."
        )
    if query_labels.ndim == 2:
        if query_labels.shape[1] != database_labels.shape[1]:
            raise ValueError(
                "Expected query_labels and database_labels to have the same number "
                f"of classes, got {query_labels.shape[1]} and "
                f"{database_labels.shape[1]}."
            )
        for name, y in [
            ("query_labels", query_labels),
            ("database_labels", database_labels),
        ]:
            if not np.isin(y, [0, 1]).all():
                raise ValueError(
                    f"Expected 2-D {name} to be multi-hot (0/1 or bool), got other "
                    "values."
                )
        query_labels = query_labels.astype(bool)
        database_labels = database_labels.astype(bool)
    if neighbors.max() >= database_labels.shape[0]:
        raise ValueError(
            f"Expected neighbors to index database_labels (n_database = "
            f"{database_labels.shape[0]}), got index {neighbors.max()}."
        )
    return query_labels, database_labels


def _label_relevance(neighbors, query_labels, database_labels):
    if query_labels.ndim == 1:
        return database_labels[neighbors] == query_labels[:, None]
    n_classes = query_labels.shape[1]
    relevant = np.empty(neighbors.shape, dtype=bool)
    step = get_chunk_n_rows(neighbors.shape[1] * n_classes, max_n_rows=len(neighbors))
    for s in range(0, len(neighbors), step):
        block = database_labels[neighbors[s : s + step]]
        relevant[s : s + step] = (block & query_labels[s : s + step, None]).any(-1)
    return relevant


def _n_relevant_by_label(query_labels, database_labels):
    if query_labels.ndim == 1:
        classes, counts = np.unique(database_labels, return_counts=True)
        pos = np.clip(np.searchsorted(classes, query_labels), 0, len(classes) - 1)
        return np.where(classes[pos] == query_labels, counts[pos], 0)
    shared = database_labels.astype(np.float32).T
    out = np.empty(len(query_labels), dtype=np.int64)
    step = get_chunk_n_rows(4 * len(database_labels), max_n_rows=len(query_labels))
    for s in range(0, len(query_labels), step):
        block = query_labels[s : s + step].astype(np.float32)
        out[s : s + step] = np.count_nonzero(block @ shared > 0, axis=1)
    return out


def _truth_relevance(neighbors, true_neighbors):
    # Row-wise membership through one sorted search on (row, index) keys.
    width = int(max(neighbors.max(), true_neighbors.max())) + 1
    rows = np.arange(len(neighbors))[:, None]
    truth = np.sort((rows * width + true_neighbors).ravel())
    keys = rows * width + neighbors
    pos = np.clip(np.searchsorted(truth, keys), 0, truth.size - 1)
    return truth[pos] == keys


def _prepare(neighbors, k, query_labels, database_labels, true_neighbors, distances):
    """Validated ``(relevant, k, distances, labels)`` for the metrics."""
    neighbors = _check_indices(neighbors, name="neighbors")
    n_neighbors = neighbors.shape[1]
    k = n_neighbors if k is None else k
    if k > n_neighbors:
        raise ValueError(
            f"Expected k <= n_neighbors ({n_neighbors}), got k={k}: ask kneighbors "
            "for at least k neighbours."
        )
    by_labels = query_labels is not None or database_labels is not None
    if by_labels == (true_neighbors is not None) or (
        by_labels and (query_labels is None or database_labels is None)
    ):
        raise ValueError(
            "Expected relevance from either query_labels and database_labels, or "
            "true_neighbors, got "
            + ", ".join(
                name
                for name, value in [
                    ("query_labels", query_labels),
                    ("database_labels", database_labels),
                    ("true_neighbors", true_neighbors),
                ]
                if value is not None
            )
            + (" only." if by_labels or true_neighbors is not None else "none.")
        )
    if by_labels:
        labels = _check_labels(query_labels, database_labels, neighbors)
        relevant = _label_relevance(neighbors, *labels)
        truth = None
    else:
        labels = None
        truth = _check_indices(
            true_neighbors, name="true_neighbors", n_rows=neighbors.shape[0]
        )
        relevant = _truth_relevance(neighbors, truth)
    if distances is not None:
        distances = np.asarray(distances)
        if distances.shape != neighbors.shape:
            raise ValueError(
                f"Expected distances to have the shape of neighbors "
                f"{neighbors.shape}, got {distances.shape}."
            )
        real = np.issubdtype(distances.dtype, np.integer) or np.issubdtype(
            distances.dtype, np.floating
        )
        if not real or not np.all(np.isfinite(distances)):
            raise ValueError(
                "Expected distances to be finite real numbers, got "
                + (f"dtype {distances.dtype}." if not real else "NaN or infinity.")
            )
        unsorted = np.nonzero(np.any(np.diff(distances, axis=1) < 0, axis=1))[0]
        if unsorted.size:
            raise ValueError(
                "Expected distances in increasing order along each row (nearest "
                f"first, as kneighbors returns them), got row {unsorted[0]} unsorted."
            )
        n_database = None if labels is None else labels[1].shape[0]
        _check_tie_at_cut(distances, k, n_database)
    return relevant, k, distances, labels, truth


def _check_tie_at_cut(distances, k, n_database):
    n_neighbors = distances.shape[1]
    if n_database is not None and n_neighbors == n_database:
        return  # the full ranking: every tie group is complete
    open_tie = np.nonzero(distances[:, k - 1] == distances[:, -1])[0]
    if open_tie.size:
        i = open_tie[0]
        raise ValueError(
            f"Expected the tie at rank k={k} to end within the {n_neighbors} given "
            f"neighbours, got query {i} with distance {distances[i, k - 1]} at rank "
            "k and at the last rank: more database items may share it. Pass more "
            "neighbours than k (with their distances) or the full ranking."
        )


def _tie_groups(distances, shape):
    """Start and end (exclusive) column of each item's tie group."""
    n_queries, n_items = shape
    cols = np.broadcast_to(np.arange(n_items), shape)
    if distances is None:
        return cols, cols + 1
    new = np.ones(shape, dtype=bool)
    new[:, 1:] = distances[:, 1:] != distances[:, :-1]
    start = np.maximum.accumulate(np.where(new, cols, 0), axis=1)
    last = np.ones(shape, dtype=bool)
    last[:, :-1] = new[:, 1:]
    end = np.minimum.accumulate(np.where(last, cols + 1, n_items)[:, ::-1], axis=1)
    return start, end[:, ::-1]


def _expected_hits(relevant, k, distances):
    """Expected number of relevant items in the top k, and the cut group."""
    start, end = _tie_groups(distances, relevant.shape)
    cum = np.zeros((relevant.shape[0], relevant.shape[1] + 1), dtype=np.int64)
    cum[:, 1:] = np.cumsum(relevant, axis=1)
    rows = np.arange(relevant.shape[0])
    a, e = start[:, k - 1], end[:, k - 1]
    cut = {
        "before": a,  # items ranked above the group straddling the cut
        "inside": k - a,  # of its slots, those inside the top k
        "size": e - a,
        "relevant": cum[rows, e] - cum[rows, a],
        "relevant_before": cum[rows, a],
    }
    hits = cut["relevant_before"] + cut["relevant"] * cut["inside"] / cut["size"]
    return hits, cut, (start, end, cum)


def _average_precision(relevant, k, distances):
    """Expected AP at k of each query (0 without relevant items in the top k)."""
    n_queries, n_items = relevant.shape
    _, cut, (start, end, cum) = _expected_hits(relevant, k, distances)
    rows = np.arange(n_queries)[:, None]
    # Items of tie groups wholly above the cut: E[rel_i * hits_i] / i, with
    # hits_i the relevant count down to rank i (McSherry and Najork, 2008).
    size = end - start
    group_rel = cum[rows, end] - cum[rows, start]
    t = np.arange(n_items) - start  # 0-based position inside the group
    pair = np.divide(group_rel - 1, size - 1, out=np.zeros(size.shape), where=size > 1)
    terms = group_rel / size * (cum[rows, start] + 1 + t * pair)
    terms /= np.arange(1, n_items + 1)
    above = np.where(np.arange(n_items) < cut["before"][:, None], terms, 0).sum(1)

    # The group straddling the cut: given x of its relevant items inside the
    # top k (hypergeometric), they sit uniformly in its m inside slots.
    a, m, R = cut["before"], cut["inside"], cut["relevant_before"]
    harmonic = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, k + 1))])
    h1 = harmonic[k] - harmonic[a]  # sum over the inside slots of 1 / rank
    h2 = m - (a + 1) * h1  # ... of (slot - 1) / rank
    x_max = int(np.minimum(cut["relevant"], m).max())
    x = np.arange(x_max + 1)[None, :]
    col = (slice(None), None)
    pmf = hypergeom.pmf(x, cut["size"][col], cut["relevant"][col], m[col])
    pair = np.divide(x - 1, (m - 1)[col], out=np.zeros(pmf.shape), where=m[col] > 1)
    inside = x / m[col] * ((R + 1)[col] * h1[col] + pair * h2[col])
    den = R[col] + x
    ap = np.divide(above[col] + inside, den, out=np.zeros(pmf.shape), where=den > 0)
    return (pmf * ap).sum(axis=1)


_PARAMETERS_DOC = """neighbors : array-like of shape (n_queries, n_neighbors), dtype=int
        Database indices of each query's neighbours, nearest first, as
        returned by :meth:`~skblsh.HammingNearestNeighbors.kneighbors`.
    k : int, default=None
        Rank of the cut; ``None`` uses all ``n_neighbors`` columns.
    query_labels : array-like of shape (n_queries,) or (n_queries, n_classes), \
            default=None
        Label of each query, or its multi-hot label set. With
        ``database_labels``, an item is relevant when its label equals the
        query's (label sets: when they share a class).
    database_labels : array-like of shape (n_database,) or \
            (n_database, n_classes), default=None
        Label (set) of each database item, indexed by ``neighbors``.
    true_neighbors : array-like of shape (n_queries, n_true), dtype=int, \
            default=None
        Instead of labels: the items relevant to each query, e.g. its exact
        Euclidean nearest neighbours (distinct indices per row).
    distances : array-like of shape (n_queries, n_neighbors), default=None
        Distances matching ``neighbors`` (nondecreasing along each row). If
        given, items at equal distance are tied and the expected value over
        random orderings of each tie is returned; the tie at rank ``k`` must
        then end within the given neighbours (ask kneighbors for more than
        ``k``), unless they are the full ranking of a labelled database. If
        ``None``, the ranking is taken as given."""

_RAISES_DOC = """Raises
    ------
    ValueError
        If an index array is not 2-D, holds negative or repeated indices or
        indices past ``database_labels``, ``k`` exceeds ``n_neighbors``,
        relevance is not given by exactly one of the labels pair and
        ``true_neighbors``, or ``distances`` do not match ``neighbors``, are
        not sorted, or tie at rank ``k`` up to the last given neighbour.
    TypeError
        If ``neighbors`` or ``true_neighbors`` are not integers."""


def _fill_doc(func):
    func.__doc__ = func.__doc__ % {"parameters": _PARAMETERS_DOC, "raises": _RAISES_DOC}
    return func


@validate_params(_CONSTRAINTS, prefer_skip_nested_validation=True)
@_fill_doc
def precision_at_k(
    neighbors,
    *,
    k=None,
    query_labels=None,
    database_labels=None,
    true_neighbors=None,
    distances=None,
):
    """Mean fraction of relevant items among the top k.

    Parameters
    ----------
    %(parameters)s

    Returns
    -------
    float
        Precision at k averaged over queries, in [0, 1].

    %(raises)s

    See Also
    --------
    recall_at_k : Fraction of the relevant items found in the top k.
    mean_average_precision_at_k : Rewards relevant items ranked early.

    Examples
    --------
    >>> from skblsh.metrics import precision_at_k
    >>> neighbors = [[2, 0, 1], [0, 1, 2]]
    >>> database_labels, query_labels = [0, 1, 1], [1, 0]
    >>> precision_at_k(neighbors, query_labels=query_labels,
    ...                database_labels=database_labels)
    0.5

    Query 0's first two neighbours are tied: the expected precision at 1
    over both orders is 0.5 for it (1 for query 1).

    >>> precision_at_k(neighbors, k=1, query_labels=query_labels,
    ...                database_labels=database_labels,
    ...                distances=[[1, 1, 2], [0, 3, 3]])
    0.75
    """
    relevant, k, distances, _, _ = _prepare(
        neighbors, k, query_labels, database_labels, true_neighbors, distances
    )
    hits, _, _ = _expected_hits(relevant, k, distances)
    return float(np.mean(hits / k))


@validate_params(_CONSTRAINTS, prefer_skip_nested_validation=True)
@_fill_doc
def recall_at_k(
    neighbors,
    *,
    k=None,
    query_labels=None,
    database_labels=None,
    true_neighbors=None,
    distances=None,
):
    """Mean fraction of each query's relevant items in the top k.

    With ``true_neighbors`` holding the exact ``n_true`` nearest neighbours
    of each query, this is the "n_true-recall at k" of approximate search:
    the fraction of the true neighbours inside the top k of the (Hamming)
    ranking. With labels, the relevant items are all database items that
    share the query's label.

    Parameters
    ----------
    %(parameters)s

    Returns
    -------
    float
        Recall at k averaged over queries, in [0, 1]. A query without any
        relevant database item (possible with labels) counts as 0, with an
        :class:`~sklearn.exceptions.UndefinedMetricWarning`.

    %(raises)s

    See Also
    --------
    precision_at_k : Fraction of the top k that is relevant.

    Examples
    --------
    Which fraction of the exact Euclidean 10-NN do 64-bit random codes
    rank in their top 10 and top 100?

    >>> import numpy as np
    >>> from sklearn.neighbors import NearestNeighbors
    >>> from skblsh import HammingNearestNeighbors, RandomLSH
    >>> from skblsh.metrics import recall_at_k
    >>> rng = np.random.default_rng(0)
    >>> X, queries = rng.standard_normal((1000, 20)), rng.standard_normal((50, 20))
    >>> exact = NearestNeighbors(n_neighbors=10).fit(X)
    >>> true_neighbors = exact.kneighbors(queries, return_distance=False)
    >>> lsh = RandomLSH(n_bits=64, random_state=0).fit(X)
    >>> index = HammingNearestNeighbors(n_neighbors=300).fit(lsh.transform(X))
    >>> distances, neighbors = index.kneighbors(lsh.transform(queries))
    >>> for k in (10, 100):
    ...     given = recall_at_k(neighbors, k=k, true_neighbors=true_neighbors)
    ...     expected = recall_at_k(neighbors, k=k, true_neighbors=true_neighbors,
    ...                            distances=distances)
    ...     print(k, round(given, 3), round(expected, 3))
    10 0.282 0.294
    100 0.792 0.791
    """
    relevant, k, distances, labels, truth = _prepare(
        neighbors, k, query_labels, database_labels, true_neighbors, distances
    )
    hits, _, _ = _expected_hits(relevant, k, distances)
    if truth is not None:
        n_relevant = np.full(len(hits), truth.shape[1])
    else:
        n_relevant = _n_relevant_by_label(*labels)
        if not n_relevant.all():
            missing = np.nonzero(n_relevant == 0)[0]
            warnings.warn(
                f"Recall is undefined for {missing.size} queries with no relevant "
                f"database item (first: query {missing[0]}); counted as 0.",
                UndefinedMetricWarning,
                stacklevel=3,
            )
    recall = np.divide(hits, n_relevant, out=np.zeros(len(hits)), where=n_relevant > 0)
    return float(np.mean(recall))


@validate_params(_CONSTRAINTS, prefer_skip_nested_validation=True)
@_fill_doc
def mean_average_precision_at_k(
    neighbors,
    *,
    k=None,
    query_labels=None,
    database_labels=None,
    true_neighbors=None,
    distances=None,
):
    """Mean over queries of the average precision (AP) of the top k.

    For one query with relevance ``rel_i`` at rank ``i``, ``AP@k = sum_{i <=
    k} rel_i * precision_at_i / R_k``, where ``R_k`` is the number of
    relevant items in the top k, and 0 when ``R_k = 0``. This is the mAP@k
    of the learning-to-hash literature (e.g. mAP@1000, mAP@5000), and equals
    :func:`sklearn.metrics.average_precision_score` of the top-k relevance
    scored by rank. With ``k`` covering the whole database it is the usual
    (untruncated) average precision.

    Parameters
    ----------
    %(parameters)s

    Returns
    -------
    float
        mAP at k, in [0, 1].

    %(raises)s

    See Also
    --------
    precision_at_k : Ignores the order inside the top k.

    References
    ----------
    .. [1] F. McSherry and M. Najork, "Computing information retrieval
       performance measures efficiently in the presence of tied scores",
       ECIR 2008.

    Examples
    --------
    Query 0 (label 1) finds relevant items at ranks 1 and 3, AP = (1/1 +
    2/3) / 2; query 1 (label 0) at rank 1 only, AP = 1.

    >>> from skblsh.metrics import mean_average_precision_at_k
    >>> neighbors = [[2, 0, 1], [0, 1, 2]]
    >>> kwargs = dict(query_labels=[1, 0], database_labels=[0, 1, 1])
    >>> print(f"{mean_average_precision_at_k(neighbors, **kwargs):.4f}")
    0.9167

    With query 0's first two neighbours tied, its AP is the mean over both
    orders, (5/6 + 7/12) / 2:

    >>> distances = [[1, 1, 2], [0, 3, 3]]
    >>> ap = mean_average_precision_at_k(neighbors, distances=distances, **kwargs)
    >>> print(f"{ap:.4f}")
    0.8542
    """
    relevant, k, distances, _, _ = _prepare(
        neighbors, k, query_labels, database_labels, true_neighbors, distances
    )
    n_queries, n_neighbors = relevant.shape
    # A dozen float arrays of n_neighbors or k + 1 columns per query.
    step = get_chunk_n_rows(96 * (n_neighbors + k + 1), max_n_rows=n_queries)
    ap = [
        _average_precision(
            relevant[s : s + step],
            k,
            None if distances is None else distances[s : s + step],
        )
        for s in range(0, n_queries, step)
    ]
    return float(np.mean(np.concatenate(ap)))
