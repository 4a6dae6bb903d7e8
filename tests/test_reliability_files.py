"""Bad files through the CLI and the loaders: one-line errors, nothing lost.

Complements tests/test_cli.py (corrupt, empty, too short and missing WAVs in a
denoise batch; a corpus folder without a manifest) with the other kinds of
bad file, failures while writing, interruptions, and bad model files.
"""

import csv
import re

import joblib
import numpy as np
import pytest
import soundfile as sf

from skblsh import RandomLSH
from skblsh.cli import main
from skblsh.datasets import _io, load_corpus
from skblsh.persistence import save_model
from skblsh.separation import MaskingSeparator, make_separator_pipeline

SR = 16000


def _signal(n, seed=0):
    rng = np.random.RandomState(seed)
    return 0.3 * np.sin(np.arange(n) * 0.05) + 0.1 * rng.randn(n)


@pytest.fixture(scope="module")
def separator():
    t = np.arange(8000)
    sources = [np.sin(t * f) for f in (0.05, 0.1)]
    mixtures = [s + 0.5 * _signal(len(s), i) for i, s in enumerate(sources)]
    pipe = make_separator_pipeline(8, 2, hasher="random", random_state=0)
    return MaskingSeparator(pipe).fit(mixtures, sources)


@pytest.fixture(scope="module")
def model(separator, tmp_path_factory):
    return save_model(separator, tmp_path_factory.mktemp("m") / "model.joblib")


def _errors(err):
    lines = err.strip().splitlines()
    assert all(line.startswith("skblsh: ") for line in lines), err
    return lines


def _no_temp_files(folder):
    return not [p.name for p in folder.rglob(".*")]


def _write_bad_files(folder):
    """Kinds of bad input file not covered by tests/test_cli.py, and why."""
    rng = np.random.RandomState(0)
    (folder / "notes.wav").write_text("this is a text file, not audio\n" * 20)
    mp3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + rng.bytes(2000)
    (folder / "song.wav").write_bytes(mp3)  # an MP3 renamed to .wav
    sf.write(folder / "nan.wav", np.r_[_signal(4000), np.nan], SR, subtype="FLOAT")
    (folder / "folder.wav").mkdir()
    (folder / "header_only.wav").write_bytes(b"RIFF")
    return {
        "notes.wav": "readable audio file.*Format not recognised",
        "song.wav": "readable audio file",
        "nan.wav": "finite samples.*NaN or infinite",
        "folder.wav": "audio file, got .*which is a folder",
        "header_only.wav": "readable audio file",
    }


def test_denoise_batch_names_each_failing_file_and_keeps_the_others(
    model, tmp_path, capsys
):
    bad = _write_bad_files(tmp_path)
    good = ["a.wav", "b.flac"]
    sf.write(tmp_path / "a.wav", _signal(5000), SR)
    sf.write(tmp_path / "b.flac", _signal(7000, 1), SR)
    order = ["notes.wav", "a.wav", "song.wav", "nan.wav", "b.flac", "folder.wav"]
    order.append("header_only.wav")
    out = tmp_path / "out"
    argv = ["denoise", "--model", str(model), *(str(tmp_path / f) for f in order)]
    assert main([*argv, "-o", str(out)]) == 1
    lines = _errors(capsys.readouterr().err)
    assert lines[-1] == f"skblsh: error: {len(bad)} of {len(order)} files failed"
    for name, reason in bad.items():
        (line,) = [
            x for x in lines if x.startswith(f"skblsh: error: {tmp_path / name}")
        ]
        assert re.search(reason, line), line
    assert sorted(p.name for p in out.iterdir()) == ["a.wav", "b.wav"]
    for name, n in zip(good, (5000, 7000), strict=True):
        y, sr = sf.read(out / (name.split(".")[0] + ".wav"))
        assert sr == SR and len(y) == n and np.max(np.abs(y)) > 0.01


def test_denoise_short_file_says_one_window(model, tmp_path, capsys):
    sf.write(tmp_path / "click.wav", _signal(300), SR)
    assert main(["denoise", "--model", str(model), str(tmp_path / "click.wav"),
                 "-o", str(tmp_path / "out")]) == 1  # fmt: skip
    (line, _) = _errors(capsys.readouterr().err)
    assert "at least 1024 samples (one STFT window, 64 ms at 16000 Hz), got 300" in line


def test_denoise_silent_and_integer_pcm_files(model, tmp_path, capsys):
    sf.write(tmp_path / "silent.wav", np.zeros(6000), SR)
    sf.write(tmp_path / "pcm.wav", (_signal(6000) * 20000).astype(np.int16), SR)
    out = tmp_path / "out"
    files = [str(tmp_path / "silent.wav"), str(tmp_path / "pcm.wav")]
    assert main(["-q", "denoise", "--model", str(model), *files, "-o", str(out)]) == 0
    assert capsys.readouterr().err == ""
    silent, _ = sf.read(out / "silent.wav")
    assert len(silent) == 6000 and not np.any(silent)
    pcm, _ = sf.read(out / "pcm.wav")
    assert len(pcm) == 6000 and np.max(np.abs(pcm)) > 0.05


def test_denoise_write_failure_is_per_file_and_atomic(
    model, tmp_path, capsys, monkeypatch
):
    for name in ("a", "b", "c"):
        sf.write(tmp_path / f"{name}.wav", _signal(5000), SR)
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.wav").write_bytes(b"previous result")
    real_write = _io.sf.write
    calls = []

    def flaky(fh, data, samplerate, **kwargs):
        calls.append(1)
        if len(calls) == 2:  # b.wav
            fh.write(b"RIFF\x00\x00partial")
            fh.flush()
            raise OSError("No space left on device")
        return real_write(fh, data, samplerate, **kwargs)

    monkeypatch.setattr(_io.sf, "write", flaky)
    files = [str(tmp_path / f"{n}.wav") for n in "abc"]
    assert main(["denoise", "--model", str(model), *files, "-o", str(out)]) == 1
    lines = _errors(capsys.readouterr().err)
    assert lines == [
        f"skblsh: error: {tmp_path / 'b.wav'}: No space left on device",
        "skblsh: error: 1 of 3 files failed",
    ]
    assert (out / "b.wav").read_bytes() == b"previous result"
    assert sf.info(out / "a.wav").frames == sf.info(out / "c.wav").frames == 5000
    assert _no_temp_files(out)


def test_denoise_interrupted_keeps_finished_outputs(
    model, tmp_path, capsys, monkeypatch
):
    for name in ("a", "b"):
        sf.write(tmp_path / f"{name}.wav", _signal(5000), SR)
    calls = []

    def predict(self, mixtures, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return [np.asarray(mixtures[0])]

    monkeypatch.setattr(MaskingSeparator, "predict", predict)
    out = tmp_path / "out"
    files = [str(tmp_path / "a.wav"), str(tmp_path / "b.wav")]
    assert main(["denoise", "--model", str(model), *files, "-o", str(out)]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["a.wav"]
    assert sf.info(out / "a.wav").frames == 5000


def test_denoise_output_is_a_file(model, tmp_path, capsys):
    sf.write(tmp_path / "a.wav", _signal(5000), SR)
    (tmp_path / "out").write_text("x")
    assert main(["denoise", "--model", str(model), str(tmp_path / "a.wav"),
                 "-o", str(tmp_path / "out")]) == 1  # fmt: skip
    (line,) = _errors(capsys.readouterr().err)
    assert "-o/--output to be a folder" in line and "which is a file" in line


# ----------------------------------------------------------------- model files


def _bad_models(folder, model):
    (folder / "empty.joblib").write_bytes(b"")
    data = model.read_bytes()
    (folder / "truncated.joblib").write_bytes(data[: len(data) // 2])
    (folder / "text.joblib").write_text("not a model")
    save_model(RandomLSH(8), folder / "hasher.joblib")
    joblib.dump({"weights": [1, 2]}, folder / "foreign.joblib")
    return {
        "empty.joblib": "got an empty file",
        "truncated.joblib": "could not be read .*truncated",
        "text.joblib": "could not be read",
        "hasher.joblib": "to hold a MaskingSeparator, got RandomLSH",
        "foreign.joblib": "joblib file of another kind",
        "missing.joblib": "existing model file",
    }


@pytest.mark.parametrize("command", ["denoise", "evaluate"])
def test_bad_model_files_are_one_line_errors(command, model, tmp_path, capsys):
    sf.write(tmp_path / "a.wav", _signal(5000), SR)
    for name, reason in _bad_models(tmp_path, model).items():
        argv = [command, "--model", str(tmp_path / name)]
        if command == "denoise":
            argv += [str(tmp_path / "a.wav"), "-o", str(tmp_path / "out")]
        assert main(argv) == 1, name
        (line,) = _errors(capsys.readouterr().err)
        assert line.startswith("skblsh: error: ") and name in line
        assert re.search(reason, line), line
    assert not (tmp_path / "out").exists()


def test_old_model_version_is_a_note_on_stderr(separator, tmp_path, capsys):
    payload = {
        "format": "skblsh-model",
        "skblsh_version": "0.0.1",
        "model": separator,
        "metadata": {},
    }
    joblib.dump(payload, tmp_path / "old.joblib")
    sf.write(tmp_path / "a.wav", _signal(5000), SR)
    argv = ["-q", "denoise", "--model", str(tmp_path / "old.joblib")]
    assert main([*argv, str(tmp_path / "a.wav"), "-o", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("skblsh: note: ") and "saved by skblsh 0.0.1" in line
    assert captured.out == ""
    assert sf.info(tmp_path / "out" / "a.wav").frames == 5000


# ----------------------------------------------------------- corpora and fit


def _corpus(root, *, columns=("path", "kind", "group"), extra_rows=()):
    rows = []
    for kind, group, n in (("speech", "spk0", 3), ("speech", "spk1", 3)):
        rows += [(f"{kind}/{group}/u{i}.flac", kind, group) for i in range(n)]
    rows += [(f"noise/n{i}/c0.flac", "noise", f"n{i}") for i in range(2)]
    for i, (rel, kind, _) in enumerate(rows):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(root / rel, _signal(SR if kind == "noise" else 6000, i), SR)
    rows += list(extra_rows)
    with open(root / "manifest.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(columns)
        w.writerows(r[: len(columns)] for r in rows)
    return root


def _fit(corpus, model_path):
    options = ["--hasher", "random", "--n-bits", "8", "--n-neighbors", "2"]
    return main(["fit", "--corpus", str(corpus), *options, "-o", str(model_path)])


def test_fit_on_a_good_fake_corpus(tmp_path, capsys):
    # The control for the failures below: the same corpus, nothing broken.
    assert _fit(_corpus(tmp_path), tmp_path / "m.joblib") == 0
    assert (tmp_path / "m.joblib").is_file()


def _corrupt(root):
    (root / "speech/spk1/u1.flac").write_bytes(b"fLaC" + b"\x00" * 50)
    return root


@pytest.mark.parametrize(
    "make, reason",
    [
        (lambda r: _corpus(r, columns=("path", "kind")),
         r"manifest.csv' to have the columns path, kind, group.*missing: group"),
        (lambda r: _corpus(r, extra_rows=[("speech/spk0/gone.flac", "speech",
                                           "spk0")]),
         r"speech/spk0/gone.flac' missing"),
        (lambda r: _corrupt(_corpus(r)), r"u1\.flac"),
        (lambda r: (r / "a.wav").write_bytes(b"") or r,
         r"corpus folder holding manifest.csv"),
        (lambda r: (r / "manifest.csv").write_text("path,kind,group\n") or r,
         r"list at least one file, got 0"),
        (lambda r: (r / "manifest.csv").write_bytes(b"\xff\xfe\x00junk") or r,
         r"manifest|utf-8|codec"),
    ],
    ids=["missing-column", "missing-file", "corrupt-file", "no-manifest",
         "empty-manifest", "binary-manifest"],
)  # fmt: skip
def test_fit_on_bad_corpus_is_one_line_and_writes_no_model(
    make, reason, tmp_path, capsys
):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    make(corpus)
    model_path = tmp_path / "m.joblib"
    assert _fit(corpus, model_path) == 1
    (line,) = _errors(capsys.readouterr().err)
    assert line.startswith("skblsh: error: ")
    assert re.search(reason, line), line
    assert list(tmp_path.glob("*.joblib")) == [] and _no_temp_files(tmp_path)


def test_evaluate_on_corpus_with_missing_file(model, tmp_path, capsys):
    corpus = _corpus(tmp_path, extra_rows=[("noise/gone.flac", "noise", "n9")])
    assert main(["evaluate", "--model", str(model), "--corpus", str(corpus)]) == 1
    (line,) = _errors(capsys.readouterr().err)
    assert "noise/gone.flac" in line


def test_loader_on_folder_without_audio(tmp_path):
    from skblsh.datasets import load_audio_folder

    (tmp_path / "readme.txt").write_text("no audio here")
    with pytest.raises(ValueError, match="got none"):
        load_audio_folder(tmp_path)
    with pytest.raises(FileNotFoundError, match="holding manifest.csv"):
        load_corpus(tmp_path)


def test_failed_model_save_keeps_previous_model(tmp_path, capsys, monkeypatch):
    corpus = _corpus(tmp_path)
    model_path = tmp_path / "m.joblib"
    model_path.write_bytes(b"previous model")

    def boom(obj, filename):
        with open(filename, "wb") as f:
            f.write(b"partial")
        raise OSError("No space left on device")

    monkeypatch.setattr(joblib, "dump", boom)
    assert _fit(corpus, model_path) == 1
    (line,) = _errors(capsys.readouterr().err)
    assert line == "skblsh: error: No space left on device"
    assert model_path.read_bytes() == b"previous model"
    assert _no_temp_files(tmp_path)

    def interrupted(obj, filename):
        with open(filename, "wb") as f:
            f.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(joblib, "dump", interrupted)
    assert _fit(corpus, model_path) == 130
    assert model_path.read_bytes() == b"previous model"
    assert _no_temp_files(tmp_path)
