import pickle
import warnings

import joblib
import numpy as np
import pytest

from skblsh import RandomLSH, __version__
from skblsh.persistence import ModelVersionWarning, load_model, save_model


def test_round_trip_identical_outputs_and_metadata(tmp_path):
    X = np.random.RandomState(0).rand(50, 10)
    model = RandomLSH(16, random_state=0).fit(X)
    path = save_model(model, tmp_path / "m.joblib", metadata={"task": {"seed": 3}})
    loaded, meta = load_model(path, return_metadata=True)
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
    assert meta == {"task": {"seed": 3}}
    assert [p.name for p in tmp_path.iterdir()] == ["m.joblib"]


def test_other_version_warns(tmp_path):
    payload = {"format": "skblsh-model", "skblsh_version": "0.0.1", "model": 1}
    joblib.dump(payload, tmp_path / "old.joblib")
    with pytest.warns(ModelVersionWarning, match="saved by skblsh 0.0.1"):
        assert load_model(tmp_path / "old.joblib") == 1


def test_bad_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="existing model file"):
        load_model(tmp_path / "missing.joblib")
    (tmp_path / "junk.joblib").write_bytes(b"not a pickle at all")
    with pytest.raises(ValueError, match="could not be read"):
        load_model(tmp_path / "junk.joblib")
    joblib.dump({"a": 1}, tmp_path / "other.joblib")
    with pytest.raises(ValueError, match="another kind"):
        load_model(tmp_path / "other.joblib")


def test_failed_save_leaves_nothing(tmp_path, monkeypatch):
    def boom(obj, filename):
        with open(filename, "wb") as f:
            f.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(joblib, "dump", boom)
    with pytest.raises(OSError, match="disk full"):
        save_model(RandomLSH(8), tmp_path / "m.joblib")
    assert list(tmp_path.iterdir()) == []


def _fitted_separator(hasher):
    from skblsh.separation import MaskingSeparator, make_separator_pipeline

    rng = np.random.RandomState(0)
    t = np.arange(6000)
    sources = [np.sin(t * f) for f in (0.05, 0.1)]
    mixtures = [s + 0.5 * rng.randn(len(s)) for s in sources]
    n_bits = 8 if hasher == "boosted" else 32
    pipe = make_separator_pipeline(n_bits, 3, hasher=hasher, random_state=0)
    if hasher == "boosted":
        pipe.set_params(hash__n_segments=2, hash__segment_size=60)
    sep = MaskingSeparator(pipe, block_frames=5).fit(mixtures, sources)
    return sep, [rng.randn(5000), 0.1 * rng.randn(3001).astype(np.float32)]


def _pickle_round_trip(sep, tmp_path):
    return pickle.loads(pickle.dumps(sep))


def _joblib_round_trip(sep, tmp_path):
    joblib.dump(sep, tmp_path / "sep.joblib")
    return joblib.load(tmp_path / "sep.joblib")


def _save_model_round_trip(sep, tmp_path):
    return load_model(save_model(sep, tmp_path / "sep.skblsh"))


@pytest.mark.parametrize("hasher", ["random", "boosted"])
@pytest.mark.parametrize(
    "round_trip",
    [_pickle_round_trip, _joblib_round_trip, _save_model_round_trip],
    ids=["pickle", "joblib", "save_model"],
)
def test_fitted_separator_round_trips_with_identical_outputs(
    hasher, round_trip, tmp_path
):
    sep, test = _fitted_separator(hasher)
    loaded = round_trip(sep, tmp_path)
    assert loaded.get_params(deep=False).keys() == sep.get_params(deep=False).keys()
    for a, b in zip(sep.predict(test), loaded.predict(test), strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        sep.predict_mask(test[0]), loaded.predict_mask(test[0])
    )
    np.testing.assert_array_equal(
        sep.estimator_[-1].codes_, loaded.estimator_[-1].codes_
    )


@pytest.mark.parametrize(
    "param, before, default", [("mask_median", 0, 2), ("mask_bias", 0.0, "auto")]
)
def test_separator_saved_before_a_parameter_predicts_as_it_did(param, before, default):
    sep, test = _fitted_separator("random")
    assert sep.refiner_ is not None
    # An older separator's pickled state does not have the parameter.
    state = sep.__getstate__()
    del state[param]
    old = type(sep).__new__(type(sep))
    old.__setstate__(state)
    assert getattr(old, param) == before
    expected = sep.set_params(**{param: before}).predict(test)
    for a, b in zip(old.predict(test), expected, strict=True):
        np.testing.assert_array_equal(a, b)
    # The new default changes the output.
    (new,) = sep.set_params(**{param: default}).predict(test[:1])
    assert not np.array_equal(new, expected[0])


def test_saved_file_carries_the_version(tmp_path):
    path = save_model(RandomLSH(8), tmp_path / "m.joblib")
    payload = joblib.load(path)
    assert payload["format"] == "skblsh-model"
    assert payload["skblsh_version"] == __version__
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same version: no warning at all
        load_model(path)


def test_empty_and_truncated_model_files(tmp_path):
    (tmp_path / "empty.joblib").write_bytes(b"")
    with pytest.raises(ValueError, match="got an empty file"):
        load_model(tmp_path / "empty.joblib")
    data = save_model(RandomLSH(8), tmp_path / "m.joblib").read_bytes()
    (tmp_path / "cut.joblib").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"could not be read \(.*\); is it truncated"):
        load_model(tmp_path / "cut.joblib")
