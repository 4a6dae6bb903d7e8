"""The refiner's cross-fitting: groups checked and dealt to folds that share
no group with their targets, and when the separator trains a refiner."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from skblsh.separation._crossfit import refine_folds, source_groups


def test_source_groups_group_pairs_sharing_a_source():
    a, b = np.arange(5.0), np.ones(5)
    assert_array_equal(source_groups([a, b, a.copy(), b, -a]), [0, 1, 0, 1, 2])


def test_refine_auto_follows_the_level_and_the_groups(demo_pairs, small_separator):
    m, s = demo_pairs()
    assert small_separator().fit(m, s).refiner_ is not None
    assert small_separator(level=None).fit(m, s).refiner_ is None
    assert small_separator(level="running").fit(m, s).refiner_ is None
    assert small_separator(refine=False).fit(m, s).refiner_ is None
    # One group: nothing to cross-fit on.
    assert small_separator().fit(m, s, groups=np.zeros(len(m))).refiner_ is None


def test_refine_errors_name_the_parameter(demo_pairs, small_separator):
    m, s = demo_pairs()
    with pytest.raises(ValueError, match="level='recording' with refine=True"):
        small_separator(level="running", refine=True).fit(m, s)
    with pytest.raises(ValueError, match=r"groups of shape \(6,\)"):
        small_separator(refine=True).fit(m, s, groups=[0, 1])
    with pytest.raises(ValueError, match="at least 2 groups"):
        small_separator(refine=True).fit(m, s, groups=np.zeros(len(m)))
    with pytest.raises(Exception, match="'refine' parameter"):
        small_separator(refine="yes").fit(m, s)


@pytest.mark.parametrize("n_kinds", [1, 2])
def test_refine_folds_share_no_group_with_their_targets(n_kinds):
    rng = np.random.RandomState(0)
    groups = np.c_[rng.randint(6, size=200), rng.randint(5, size=200)][:, :n_kinds]
    target, trains = refine_folds(groups, np.random.RandomState(1))
    assert len(trains) == 2
    for k, train in enumerate(trains):
        mine = target == k
        assert mine.sum() >= 20 and train.sum() >= 20
        for column in groups.T:
            assert not set(column[mine]) & set(column[train])
    if n_kinds == 1:
        # One kind: every pair is a target once and in the other dictionary.
        assert_array_equal(np.sort(np.unique(target)), [0, 1])
        assert_array_equal(trains[0], target == 1)
    else:
        # Speaker and noise type in different folds: a target of neither.
        assert 0 < (target == -1).sum() < len(target)


def test_refine_with_speaker_and_noise_groups(demo, demo_pairs, small_separator):
    m, s = demo_pairs(24)
    groups = np.c_[demo.speakers_train[:24], demo.noise_types_train[:24]]
    sep = small_separator(refine=True).fit(m, s, groups=groups)
    by_source = small_separator(refine=True).fit(m, s)
    assert sep.refiner_ is not None
    assert not np.allclose(sep.refiner_.W1_, by_source.refiner_.W1_)
    with pytest.raises(ValueError, match=r"groups of shape \(24,\) or \(24, 2\)"):
        small_separator(refine=True).fit(m, s, groups=np.c_[groups, groups])
    with pytest.raises(ValueError, match=r"groups of shape \(24,\) or \(24, 2\)"):
        small_separator().fit(m, s, groups=np.empty((24, 0)))
    one_noise = np.c_[groups[:, 0], np.zeros(24)]
    with pytest.raises(ValueError, match="at least 2 groups in every column"):
        small_separator(refine=True).fit(m, s, groups=one_noise)
    # "auto" cross-fits on the columns it can, here the speakers alone.
    auto = small_separator().fit(m, s, groups=one_noise).refiner_
    assert_array_equal(
        auto.W1_, small_separator().fit(m, s, groups=groups[:, 0]).refiner_.W1_
    )
    # partial_fit hands its groups to the first fit.
    assert (
        small_separator().partial_fit(m, s, groups=np.zeros((24, 2))).refiner_ is None
    )
