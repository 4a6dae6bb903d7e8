import joblib
import numpy as np
import pytest

from skblsh import RandomLSH
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
