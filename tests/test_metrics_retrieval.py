"""Retrieval metrics of rankings (skblsh/metrics/_retrieval.py)."""

import itertools

import numpy as np
import pytest
from sklearn import config_context
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import average_precision_score
from sklearn.neighbors import NearestNeighbors
from sklearn.utils._param_validation import InvalidParameterError

from skblsh import HammingNearestNeighbors, RandomLSH
from skblsh.metrics import mean_average_precision_at_k, precision_at_k, recall_at_k

METRICS = [precision_at_k, recall_at_k, mean_average_precision_at_k]


# --------------------------------------------------------------------------
# Hand-computed values


def test_hand_computed_with_true_neighbors():
    # Relevance along the ranking: 0 1 0 1 (items 1 and 0 are the truth).
    neighbors = [[3, 1, 4, 0]]
    truth = [[1, 0]]
    expected = {
        # k: (precision, recall, AP)
        1: (0.0, 0.0, 0.0),
        2: (1 / 2, 1 / 2, 1 / 2),
        3: (1 / 3, 1 / 2, 1 / 2),
        4: (2 / 4, 1.0, (1 / 2 + 2 / 4) / 2),
    }
    for k, values in expected.items():
        got = [m(neighbors, k=k, true_neighbors=truth) for m in METRICS]
        assert got == pytest.approx(values, abs=1e-15), k


def test_hand_computed_with_labels():
    neighbors = [[2, 0, 1], [0, 1, 2]]
    kwargs = dict(query_labels=[1, 0], database_labels=[0, 1, 1])
    # Relevance 1 0 1 (2 relevant in the database) and 1 0 0 (1 relevant).
    assert precision_at_k(neighbors, **kwargs) == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert precision_at_k(neighbors, k=1, **kwargs) == 1.0
    assert recall_at_k(neighbors, k=1, **kwargs) == pytest.approx((1 / 2 + 1) / 2)
    assert recall_at_k(neighbors, k=3, **kwargs) == 1.0
    assert mean_average_precision_at_k(neighbors, **kwargs) == pytest.approx(
        ((1 + 2 / 3) / 2 + 1) / 2
    )
    # String labels and multi-hot label sets give the same relevance.
    strings = dict(query_labels=["b", "a"], database_labels=["a", "b", "b"])
    one_hot = dict(query_labels=np.eye(2)[[1, 0]], database_labels=np.eye(2)[[0, 1, 1]])
    for metric in METRICS:
        for other in (strings, one_hot):
            assert metric(neighbors, **other) == metric(neighbors, **kwargs)


def test_hand_computed_ties():
    neighbors = [[2, 0, 1], [0, 1, 2]]
    kwargs = dict(query_labels=[1, 0], database_labels=[0, 1, 1])
    distances = [[1, 1, 2], [0, 3, 3]]
    # Query 0: items 2 (relevant) and 0 tie; query 1: items 1 and 2 tie, both
    # irrelevant, so only query 0 changes.
    assert precision_at_k(neighbors, k=1, distances=distances, **kwargs) == 0.75
    # Recall at 1: query 0 finds half a relevant item of 2, query 1 its one.
    assert recall_at_k(neighbors, k=1, distances=distances, **kwargs) == 0.625
    orders = [(1 + 2 / 3) / 2, (1 / 2 + 2 / 3) / 2]  # 1 0 1 and 0 1 1
    assert mean_average_precision_at_k(
        neighbors, distances=distances, **kwargs
    ) == pytest.approx((np.mean(orders) + 1) / 2, abs=1e-15)


def test_multi_hot_labels_share_a_class():
    neighbors = [[0, 1, 2, 3]]
    database = [[1, 0, 0], [0, 1, 1], [1, 1, 0], [0, 0, 0]]
    query = [[0, 1, 0]]
    # Relevance 0 1 1 0; two relevant items in the database.
    kwargs = dict(query_labels=query, database_labels=database)
    assert precision_at_k(neighbors, k=2, **kwargs) == 0.5
    assert recall_at_k(neighbors, k=2, **kwargs) == 0.5
    assert mean_average_precision_at_k(neighbors, **kwargs) == pytest.approx(
        (1 / 2 + 2 / 3) / 2
    )


# --------------------------------------------------------------------------
# Against scikit-learn and brute force


def _random_ranking(rng, n_queries, n_database, n_neighbors, n_classes):
    neighbors = np.array(
        [rng.permutation(n_database)[:n_neighbors] for _ in range(n_queries)]
    )
    database_labels = rng.integers(n_classes, size=n_database)
    query_labels = rng.integers(n_classes, size=n_queries)
    return neighbors, query_labels, database_labels


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_average_precision_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    neighbors, query_labels, database_labels = _random_ranking(rng, 30, 200, 50, 5)
    relevant = database_labels[neighbors] == query_labels[:, None]
    kwargs = dict(query_labels=query_labels, database_labels=database_labels)
    for k in (1, 7, 50):
        expected = [
            average_precision_score(rel[:k], -np.arange(k)) if rel[:k].any() else 0.0
            for rel in relevant
        ]
        got = mean_average_precision_at_k(neighbors, k=k, **kwargs)
        assert got == pytest.approx(np.mean(expected), abs=1e-12), k
    # The full ranking: the usual average precision of each query.
    full = np.array([rng.permutation(200) for _ in range(30)])
    expected = [
        average_precision_score(database_labels[row] == q, -np.arange(200))
        for row, q in zip(full, query_labels, strict=True)
    ]
    got = mean_average_precision_at_k(full, **kwargs)
    assert got == pytest.approx(np.mean(expected), abs=1e-12)


def _brute_force_over_ties(metric, neighbors, distances, k, kwargs):
    """Mean of the given-order metric over every ordering inside each tie."""
    values = []
    for row, dist in zip(neighbors, distances, strict=True):
        groups = [list(row[dist == d]) for d in np.unique(dist)]
        per_query = [
            metric([np.concatenate(order)], k=k, **kwargs(row))
            for order in itertools.product(*map(itertools.permutations, groups))
        ]
        values.append(np.mean(per_query))
    return np.mean(values)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("metric", METRICS)
def test_tie_aware_values_equal_the_mean_over_orderings(seed, metric):
    rng = np.random.default_rng(seed)
    n_neighbors, n_database = 7, 12
    neighbors, query_labels, database_labels = _random_ranking(
        rng, 4, n_database, n_neighbors, 2
    )
    distances = np.sort(rng.integers(0, 4, size=neighbors.shape), axis=1)
    distances[:, -1] = 9  # a last rank of its own: every tie ends inside
    truth = np.array([rng.permutation(n_database)[:3] for _ in range(4)])
    for k in (1, 3, 5):
        # Labels: one query at a time so that the brute force sees its label.
        for q in range(4):
            got = metric(
                neighbors[q : q + 1],
                k=k,
                distances=distances[q : q + 1],
                query_labels=query_labels[q : q + 1],
                database_labels=database_labels,
            )
            expected = _brute_force_over_ties(
                metric,
                neighbors[q : q + 1],
                distances[q : q + 1],
                k,
                lambda row, q=q: dict(
                    query_labels=query_labels[q : q + 1],
                    database_labels=database_labels,
                ),
            )
            assert got == pytest.approx(expected, abs=1e-12), (k, q)
        got = metric(neighbors, k=k, distances=distances, true_neighbors=truth)
        per_query = [
            _brute_force_over_ties(
                metric,
                neighbors[q : q + 1],
                distances[q : q + 1],
                k,
                lambda row, q=q: dict(true_neighbors=truth[q : q + 1]),
            )
            for q in range(4)
        ]
        assert got == pytest.approx(np.mean(per_query), abs=1e-12), k


@pytest.mark.parametrize("metric", METRICS)
def test_ties_make_the_value_independent_of_the_order_inside_them(metric):
    rng = np.random.default_rng(0)
    neighbors, query_labels, database_labels = _random_ranking(rng, 20, 100, 40, 3)
    distances = np.sort(rng.integers(0, 6, size=neighbors.shape), axis=1)
    distances[:, -1] = 99
    # Reverse the order inside every tie group.
    shuffled = np.array(
        [
            row[np.lexsort((-np.arange(40), d))]
            for row, d in zip(neighbors, distances, strict=True)
        ]
    )
    kwargs = dict(query_labels=query_labels, database_labels=database_labels, k=10)
    assert not np.array_equal(shuffled, neighbors)
    assert metric(shuffled, distances=distances, **kwargs) == pytest.approx(
        metric(neighbors, distances=distances, **kwargs), abs=1e-12
    )
    # Without distances the order inside ties matters (for these seeds).
    assert metric(shuffled, **kwargs) != metric(neighbors, **kwargs)
    # Distinct distances: the tie-aware value is the given-order one.
    distinct = np.broadcast_to(np.arange(40.0), neighbors.shape)
    assert metric(neighbors, distances=distinct, **kwargs) == pytest.approx(
        metric(neighbors, **kwargs), abs=1e-12
    )


def test_working_memory_blocks_do_not_change_the_values():
    rng = np.random.default_rng(0)
    neighbors, _, _ = _random_ranking(rng, 300, 500, 60, 1)
    database = rng.integers(0, 2, size=(500, 8))
    query = rng.integers(0, 2, size=(300, 8))
    query[:, 0] = 1  # every query has relevant items (no recall warning)
    distances = np.sort(rng.integers(0, 8, size=neighbors.shape), axis=1)
    distances[:, -1] = 99
    kwargs = dict(query_labels=query, database_labels=database, distances=distances)
    values = [m(neighbors, k=30, **kwargs) for m in METRICS]
    with config_context(working_memory=0.01):  # 10 kB blocks: many of them
        assert [m(neighbors, k=30, **kwargs) for m in METRICS] == values


# --------------------------------------------------------------------------
# With the library's own kneighbors


def test_recall_of_random_codes_against_exact_neighbours():
    rng = np.random.default_rng(0)
    X, queries = rng.standard_normal((1000, 20)), rng.standard_normal((50, 20))
    truth = NearestNeighbors(n_neighbors=10).fit(X).kneighbors(queries)[1]
    recall = {}
    for n_bits in (16, 128):
        lsh = RandomLSH(n_bits=n_bits, random_state=0).fit(X)
        index = HammingNearestNeighbors(n_neighbors=400).fit(lsh.transform(X))
        dist, ind = index.kneighbors(lsh.transform(queries))
        recall[n_bits] = recall_at_k(ind, k=100, true_neighbors=truth, distances=dist)
        # A query's own ranking as its truth: everything is found.
        assert recall_at_k(ind, k=10, true_neighbors=ind[:, :10]) == 1.0
    # Longer codes approximate the angle better; measured 0.50 and 0.90.
    assert 0.3 < recall[16] < recall[128] - 0.3


# --------------------------------------------------------------------------
# Errors

NB = np.array([[0, 1, 2], [2, 1, 0]])
LABELS = dict(query_labels=[0, 1], database_labels=[0, 1, 1])


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize(
    "args, kwargs, err, match",
    [
        ((NB,), dict(k=4, **LABELS), ValueError, r"k <= n_neighbors \(3\), got k=4"),
        ((NB,), dict(k=0, **LABELS), InvalidParameterError, "'k' parameter"),
        ((NB,), {}, ValueError, "query_labels and database_labels, or true_neighbors"),
        ((NB,), dict(query_labels=[0, 1]), ValueError, "got query_labels only"),
        (
            (NB,),
            dict(true_neighbors=NB, **LABELS),
            ValueError,
            "got query_labels, database_labels, true_neighbors only",
        ),
        ((NB[0],), LABELS, ValueError, r"neighbors to be a 2-D array .*shape \(3,\)"),
        ((NB * 1.0,), LABELS, TypeError, "neighbors to hold integer indices"),
        (([[0, 1, -1], [0, 1, 2]],), LABELS, ValueError, "non-negative .*faiss's -1"),
        (([[0, 1, 1], [0, 1, 2]],), LABELS, ValueError, "repeated index in row 0"),
        (
            ([[0, 1, 3], [0, 1, 2]],),
            LABELS,
            ValueError,
            r"index database_labels \(n_database = 3\), got index 3",
        ),
        (
            (NB,),
            dict(query_labels=[0], database_labels=[0, 1, 1]),
            ValueError,
            r"query_labels to have one entry per query \(2\), got 1",
        ),
        (
            (NB,),
            dict(query_labels=[[0, 1], [1, 0]], database_labels=[0, 1, 1]),
            ValueError,
            "both 1-D .* or both 2-D",
        ),
        (
            (NB,),
            dict(query_labels=[[0, 2], [1, 0]], database_labels=np.eye(3, 2)),
            ValueError,
            "query_labels to be multi-hot",
        ),
        (
            (NB,),
            dict(true_neighbors=[[0, 1]]),
            ValueError,
            r"true_neighbors to have one row per query \(2\), got 1",
        ),
        (
            (NB,),
            dict(distances=[[0, 1]], **LABELS),
            ValueError,
            r"distances to have the shape of neighbors \(2, 3\)",
        ),
        (
            (NB,),
            dict(distances=[[0, 1, 2], [3, 1, 4]], **LABELS),
            ValueError,
            "increasing order along each row .*row 1 unsorted",
        ),
        (
            (NB,),
            dict(distances=[[0, 1, np.nan], [0, 1, 2]], **LABELS),
            ValueError,
            "distances to be finite",
        ),
        (
            (NB,),
            dict(k=2, distances=[[0, 1, 1], [0, 1, 2]], true_neighbors=NB[:, :1]),
            ValueError,
            r"tie at rank k=2 to end within the 3 given neighbours, got query 0",
        ),
    ],
)
def test_rejects_bad_input(metric, args, kwargs, err, match):
    with pytest.raises(err, match=match):
        metric(*args, **kwargs)


def test_full_labelled_ranking_may_end_in_a_tie():
    # All three database items ranked: the tie at the last rank is complete.
    dist = [[0, 1, 1], [0, 1, 1]]
    assert precision_at_k(NB, k=2, distances=dist, **LABELS) == pytest.approx(
        (1 / 2 + (1 + 1 / 2) / 2) / 2
    )


def test_recall_warns_about_queries_without_relevant_items():
    with pytest.warns(UndefinedMetricWarning, match="1 queries .*first: query 1"):
        value = recall_at_k(NB, k=1, query_labels=[0, 7], database_labels=[0, 1, 1])
    assert value == 0.5
