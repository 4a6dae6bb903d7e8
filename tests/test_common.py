"""scikit-learn's common estimator checks for every public estimator."""

import pytest
from sklearn.base import BaseEstimator
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import (
    check_do_not_raise_errors_in_init_or_set_params,
    check_estimator_cloneable,
    check_estimator_repr,
    check_estimator_tags_renamed,
    check_get_feature_names_out_error,
    check_get_params_invariance,
    check_global_output_transform_pandas,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_output_transform,
    check_set_output_transform_pandas,
    check_set_params,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    check_valid_tag_types,
    parametrize_with_checks,
)

import skblsh
from skblsh import (
    BoostedLSH,
    HammingKNeighborsClassifier,
    HammingKNeighborsRegressor,
    HammingNearestNeighbors,
    MaskingSeparator,
    RandomLSH,
    SpectralFeatures,
)

# The estimators that consume packed codes reject float X with a TypeError by
# design (casting floats to uint8 would silently corrupt them), and the common
# checks build their data from floats. tests/test_neighbors.py runs the
# equivalent properties (pickle, idempotence, subset/order invariance, dtypes,
# n_features_in_) on real codes, and the pipeline below runs every regressor
# check through a hasher.
_FLOAT_X = "the common checks pass float X; this estimator takes packed uint8 codes"
_CODE_CHECKS = [
    "check_dict_unchanged",
    "check_dont_overwrite_parameters",
    "check_dtype_object",
    "check_estimators_dtypes",
    "check_estimators_fit_returns_self",
    "check_estimators_nan_inf",
    "check_estimators_overwrite_params",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_fit2d_1feature",
    "check_fit2d_1sample",
    "check_fit2d_predict1d",
    "check_fit_check_is_fitted",
    "check_fit_idempotent",
    "check_fit_score_takes_y",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_n_features_in",
    "check_n_features_in_after_fitting",
    "check_pipeline_consistency",
    "check_positive_only_tag_during_fit",
    "check_readonly_memmap_input",
]
_CLASSIFIER_CHECKS = [
    "check_classifiers_classes",
    "check_classifiers_one_label",
    "check_classifiers_regression_target",
    "check_classifiers_train",
    "check_classifiers_multilabel_representation_invariance",
    "check_classifiers_multilabel_output_format_predict",
    "check_classifiers_multilabel_output_format_predict_proba",
    "check_classifiers_multilabel_output_format_decision_function",
    "check_supervised_y_2d",
]
_REGRESSOR_CHECKS = [
    "check_regressor_data_not_an_array",
    "check_regressor_multioutput",
    "check_regressors_int",
    "check_regressors_no_decision_function",
    "check_regressors_train",
    "check_supervised_y_2d",
]

EXPECTED_FAILED_CHECKS = {
    "HammingNearestNeighbors": dict.fromkeys(
        _CODE_CHECKS + ["check_estimators_partial_fit_n_features"], _FLOAT_X
    ),
    "HammingKNeighborsRegressor": dict.fromkeys(
        _CODE_CHECKS + _REGRESSOR_CHECKS + ["check_estimators_partial_fit_n_features"],
        _FLOAT_X,
    ),
    "HammingKNNMaskRegressor": dict.fromkeys(
        _CODE_CHECKS + _REGRESSOR_CHECKS + ["check_estimators_partial_fit_n_features"],
        _FLOAT_X,
    ),
    "HammingKNeighborsClassifier": dict.fromkeys(
        _CODE_CHECKS + _CLASSIFIER_CHECKS, _FLOAT_X
    ),
    "Pipeline": dict.fromkeys(
        ["check_estimators_overwrite_params", "check_dont_overwrite_parameters"],
        "scikit-learn's Pipeline fits the estimators in its steps in place",
    ),
}

# Extra configurations worth checking; every public estimator is checked at
# least with its defaults (the list below is completed from skblsh.__all__),
# and the hashers' defaults pass every check with no expected failure.
CONFIGURATIONS = [
    RandomLSH(n_bits=12),
    RandomLSH(n_bits=8, fit_intercept=False),
    BoostedLSH(n_bits=8, segment_size=40, n_segments=2),
    BoostedLSH(n_bits=5, segment_size=40, n_segments=2, init="random", n_steps=3),
    BoostedLSH(n_bits=4, segment_size=40, n_segments=1, n_steps=2, loss="squared"),
    BoostedLSH(n_bits=10, segment_size=40, n_segments=2, init="itq", n_components=3),
    HammingNearestNeighbors(n_neighbors=3),
    HammingNearestNeighbors(n_neighbors=3, algorithm="brute"),
    HammingNearestNeighbors(n_neighbors=3, algorithm="mih"),
    HammingKNeighborsClassifier(n_neighbors=3, algorithm="mih"),
    HammingKNeighborsRegressor(n_neighbors=3),
    HammingKNeighborsRegressor(n_neighbors=3, weights="distance"),
    HammingKNeighborsClassifier(n_neighbors=3),
    HammingKNeighborsClassifier(n_neighbors=3, weights="distance"),
    # The code consumers behind a hasher receive real codes in every check.
    make_pipeline(RandomLSH(n_bits=16, random_state=0), HammingKNeighborsRegressor(3)),
    make_pipeline(RandomLSH(n_bits=16, random_state=0), HammingKNeighborsClassifier(3)),
    make_pipeline(
        RandomLSH(n_bits=16, random_state=0),
        HammingKNeighborsClassifier(3, weights="distance"),
    ),
    SpectralFeatures(power=0.3, normalize=False),
    SpectralFeatures(kind="mel", n_mels=4),
    SpectralFeatures(kind="log-mel", n_mels=4, power=2.0),
    SpectralFeatures(kind="mfcc", n_mels=4, n_mfcc=3),
]

# Estimators whose input is not a 2-D array: only the API checks apply.
NOT_2D = (MaskingSeparator,)


def _public_estimators():
    return sorted(
        (
            obj
            for obj in (getattr(skblsh, name) for name in skblsh.__all__)
            if isinstance(obj, type) and issubclass(obj, BaseEstimator)
        ),
        key=lambda cls: cls.__name__,
    )


ESTIMATORS = [
    cls() for cls in _public_estimators() if not issubclass(cls, NOT_2D)
] + CONFIGURATIONS


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


@pytest.mark.filterwarnings("ignore:.*mel filters are empty:UserWarning")
@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


TRANSFORMERS = [
    est for est in ESTIMATORS if hasattr(est, "transform") and hasattr(est, "kind")
] + [RandomLSH(n_bits=12), BoostedLSH(n_bits=12, segment_size=40)]


# The pandas checks fit on a DataFrame and transform an array; the checks'
# 3-5 frequency bins are too few for even 4 mel bands.
@pytest.mark.filterwarnings("ignore:X (has|does not have)( valid)? feature names")
@pytest.mark.filterwarnings("ignore:.*mel filters are empty:UserWarning")
@pytest.mark.parametrize("transformer", TRANSFORMERS, ids=repr)
@pytest.mark.parametrize(
    "check",
    [
        check_transformer_get_feature_names_out,
        check_transformer_get_feature_names_out_pandas,
        check_get_feature_names_out_error,
        check_set_output_transform,
        check_set_output_transform_pandas,
        check_global_output_transform_pandas,
    ],
    ids=lambda c: c.__name__,
)
def test_feature_names_and_set_output(transformer, check):
    pytest.importorskip("pandas")
    check(type(transformer).__name__, transformer)


API_CHECKS = [
    check_parameters_default_constructible,
    check_no_attributes_set_in_init,
    check_get_params_invariance,
    check_set_params,
    check_estimator_repr,
    check_estimator_cloneable,
    check_do_not_raise_errors_in_init_or_set_params,
    check_valid_tag_types,
    check_estimator_tags_renamed,
]


@pytest.mark.parametrize("cls", NOT_2D, ids=lambda c: c.__name__)
@pytest.mark.parametrize("check", API_CHECKS, ids=lambda c: c.__name__)
def test_api_of_estimators_on_waveforms(cls, check):
    check(cls.__name__, cls())


def test_every_public_estimator_is_checked():
    checked = {type(est) for est in ESTIMATORS} | set(NOT_2D)
    assert set(_public_estimators()) <= checked
