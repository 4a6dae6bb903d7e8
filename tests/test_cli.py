import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

import skblsh
from skblsh.cli import main
from skblsh.datasets import get_demo_path, load_demo
from skblsh.separation import MaskingSeparator


def _table_sdr(text):
    """SDR column of the printed markdown table, by method name."""
    rows = re.findall(r"^\| ([^|]+?) \| (-?[\d.]+) \|", text, flags=re.M)
    return {name: float(sdr) for name, sdr in rows}


def test_demo_writes_outputs_and_table(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--n-bits", "32", "--out", str(out)]) == 0
    text = capsys.readouterr().out
    sdr = _table_sdr(text)
    assert set(sdr) == {
        "Oracle IBM",
        "kNN on STFT (K=10)",
        "RandomLSH (L=32, K=10)",
        "BoostedLSH (L=32, K=10)",
        "skblsh default (L=32, K=30)",
        "Unprocessed mixture",
    }
    assert sdr["Oracle IBM"] > sdr["BoostedLSH (L=32, K=10)"]
    assert sdr["BoostedLSH (L=32, K=10)"] > sdr["Unprocessed mixture"] + 5
    names = sorted(p.name for p in out.iterdir())
    assert "spectrograms.png" in names and "report.md" in names
    assert sum(n.endswith(".wav") for n in names) == 9
    y, sr = sf.read(out / "utt0_denoised.wav")
    assert sr == 16000 and np.max(np.abs(y)) <= 0.9 + 1e-4
    assert not [n for n in names if n.startswith(".")]


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    argv = ["-q", "fit", "--hasher", "random", "--n-bits", "32", "-o", str(path)]
    assert main(argv) == 0
    return path


def test_fit_denoise_evaluate(model_path, tmp_path, capsys):
    demo = load_demo()
    wav = tmp_path / "in.wav"
    sf.write(wav, demo.mixtures_test[0] * 0.5, 16000)
    stereo = tmp_path / "stereo44k.wav"
    y44 = np.stack([demo.mixtures_test[1][:16000]] * 2, axis=1) * 0.5
    sf.write(stereo, np.repeat(y44, 2, axis=0)[: int(44100 * 0.9)], 44100)
    out = tmp_path / "out"
    assert (
        main(
            [
                "denoise",
                "--model",
                str(model_path),
                str(wav),
                str(stereo),
                "-o",
                str(out),
            ]
        )
        == 0
    )
    captured = capsys.readouterr()
    assert "down-mixed 2 channels" in captured.err and "44100 Hz" in captured.err
    y, sr = sf.read(out / "in.wav")
    assert sr == 16000 and len(y) == len(demo.mixtures_test[0])
    assert sf.info(out / "stereo44k.wav").samplerate == 16000

    assert main(["evaluate", "--model", str(model_path)]) == 0
    sdr = _table_sdr(capsys.readouterr().out)
    assert sdr["model"] > sdr["Unprocessed mixture"] + 5


def test_denoise_batch_with_bad_files(model_path, tmp_path, capsys):
    demo = load_demo()
    good = tmp_path / "good.wav"
    sf.write(good, demo.mixtures_test[0] * 0.5, 16000)
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x00garbage" * 10)
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(100), 16000)
    missing = tmp_path / "missing.wav"
    out = tmp_path / "out"
    files = [corrupt, good, empty, short, missing]
    status = main(
        ["denoise", "--model", str(model_path), *map(str, files), "-o", str(out)]
    )
    err = capsys.readouterr().err
    assert status == 1
    assert "4 of 5 files failed" in err
    for bad in (corrupt, empty, short, missing):
        assert f"error: {bad}" in err
    assert sorted(p.name for p in out.iterdir()) == ["good.wav"]


def test_cli_user_errors_are_one_line(tmp_path, capsys):
    assert (
        main(
            [
                "denoise",
                "--model",
                str(tmp_path / "nope.joblib"),
                "x.wav",
                "-o",
                str(tmp_path),
            ]
        )
        == 1
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("skblsh: error:") and "\n" not in err
    assert (
        main(["fit", "--corpus", str(tmp_path), "-o", str(tmp_path / "m.joblib")]) == 1
    )
    err = capsys.readouterr().err.strip()
    assert err.startswith("skblsh: error:") and "manifest" in err
    assert not (tmp_path / "m.joblib").exists()
    with pytest.raises(SystemExit) as exc:
        main(["fit"])
    assert exc.value.code == 2


def _tree(folder):
    """Relative path -> bytes of every file under a folder."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def speech_inputs(tmp_path_factory):
    """A folder tree of demo speech (with files to skip) and a loose file."""
    root = tmp_path_factory.mktemp("inputs")
    tree = root / "speech"
    shutil.copytree(get_demo_path() / "speech", tree)
    (tree / "README.txt").write_text("not audio")
    (tree / ".hidden.wav").write_bytes(b"")  # skipped, else a failure
    (tree / "en_f_allison" / "._vm_delete.flac").write_bytes(b"\x00")
    loose = root / "loose.flac"
    shutil.copy(get_demo_path() / "noise" / "rain_1.flac", loose)
    return tree, loose


@pytest.fixture(scope="module")
def sequential_outputs(model_path, speech_inputs, tmp_path_factory):
    tree, loose = speech_inputs
    out = tmp_path_factory.mktemp("sequential")
    argv = ["-q", "denoise", "--model", str(model_path), str(tree), str(loose)]
    assert main([*argv, "-o", str(out)]) == 0
    return _tree(out)


def test_denoise_folders_keep_their_tree(sequential_outputs):
    speech = sorted(
        p.relative_to(get_demo_path() / "speech").with_suffix(".wav").as_posix()
        for p in (get_demo_path() / "speech").rglob("*.flac")
    )
    # vm_repeat is in two speakers' folders: both kept, no collision.
    assert (
        "en_f_allison/vm_repeat.wav" in speech and "fr_f_june/vm_repeat.wav" in speech
    )
    assert sorted(sequential_outputs) == sorted([*speech, "loose.wav"])


def test_denoise_threads_bitwise_equal_sequential(
    model_path, speech_inputs, sequential_outputs, tmp_path, capsys
):
    tree, loose = speech_inputs
    out = tmp_path / "out"
    argv = [
        "denoise",
        "--model",
        str(model_path),
        str(tree),
        str(loose),
        "-o",
        str(out),
    ]
    assert main([*argv, "--n-jobs", "2"]) == 0
    assert _tree(out) == sequential_outputs
    lines = capsys.readouterr().out.splitlines()
    n = len(sequential_outputs)
    assert len(lines) == n and lines[-1].startswith(f"[skblsh] {n}/{n} ")


def test_denoise_on_a_local_cluster(
    model_path, speech_inputs, sequential_outputs, tmp_path, capsys
):
    distributed = pytest.importorskip("distributed")
    tree, loose = speech_inputs
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00garbage" * 10)
    short = tmp_path / "short.wav"
    sf.write(short, np.zeros(100), 16000)
    out = tmp_path / "out"
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        status = main(
            [
                "-q",
                "denoise",
                "--model",
                str(model_path),
                str(bad),
                str(tree),
                str(short),
                str(loose),
                "-o",
                str(out),
                "--scheduler",
                cluster.scheduler_address,
            ]
        )
    err = capsys.readouterr().err
    assert status == 1
    n = len(sequential_outputs) + 2
    assert f"2 of {n} files failed" in err
    assert f"error: {bad}" in err and f"error: {short}" in err
    # Every other file written, bit for bit the sequential output; no
    # temporary file left behind.
    assert _tree(out) == sequential_outputs


def test_denoise_parallel_options_errors(model_path, speech_inputs, tmp_path, capsys):
    tree, loose = speech_inputs
    base = ["denoise", "--model", str(model_path), "-o", str(tmp_path / "o")]
    cases = [
        ([str(loose), "--n-jobs", "0"], "--n-jobs to be a positive number"),
        ([str(loose), "--n-jobs", "2", "--scheduler", "tcp://x:1"], "either --n-jobs"),
        ([str(tree / "en_f_allison"), str(tree / "fr_f_june")], "named vm_repeat"),
        ([str(loose), str(tree / "../loose.flac")], "several named loose"),
    ]
    for extra, message in cases:
        assert main([*base, *extra]) == 1
        err = capsys.readouterr().err.strip()
        assert err.startswith("skblsh: error:") and message in err
        assert "\n" not in err
    assert not (tmp_path / "o").exists()
    # A folder without audio is one input that fails like an unreadable file.
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main([*base, str(empty)]) == 1
    err = capsys.readouterr().err
    assert "which is a folder" in err and "1 of 1 files failed" in err


@pytest.mark.parametrize("module", ["skblsh", "skblsh.cli"])
def test_python_dash_m_runs_the_command(module):
    done = subprocess.run(
        [sys.executable, "-m", module, "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert skblsh.__version__ in done.stdout


def test_fit_options_reach_the_separator():
    from skblsh.cli import _build_parser
    from skblsh.cli._common import _build_separator

    parser = _build_parser()
    args = parser.parse_args(["fit", "-o", "m.joblib"])
    defaults = MaskingSeparator().get_params()
    sep = _build_separator(args, 0)
    assert sep.mask_median == defaults["mask_median"]
    assert sep.mask_smoothing == defaults["mask_smoothing"]
    args = parser.parse_args(
        ["fit", "-o", "m.joblib", "--mask-median", "0", "--mask-smoothing", "1"]
    )
    sep = _build_separator(args, 0)
    assert (sep.mask_median, sep.mask_smoothing) == (0, 1)


def test_mask_bias_option(model_path, tmp_path, capsys):
    from skblsh.cli import _build_parser
    from skblsh.cli._common import _build_separator
    from skblsh.persistence import load_model, save_model

    parser = _build_parser()
    assert (
        _build_separator(parser.parse_args(["fit", "-o", "m"]), 0).mask_bias == "auto"
    )
    args = parser.parse_args(["fit", "-o", "m", "--mask-bias", "-0.5"])
    assert _build_separator(args, 0).mask_bias == -0.5
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(
            ["denoise", "--model", "m", "x", "-o", "o", "--mask-bias", "max"]
        )
    assert exc.value.code == 2
    assert "'auto' or a number" in capsys.readouterr().err

    # denoise --mask-bias overrides the model's for this run.
    wav = tmp_path / "in.wav"
    mixture = load_demo().mixtures_test[0] * 0.5
    sf.write(wav, mixture, 16000, subtype="FLOAT")
    base = ["denoise", "--model", str(model_path), str(wav)]
    assert main([*base, "-o", str(tmp_path / "auto")]) == 0
    assert main([*base, "-o", str(tmp_path / "low"), "--mask-bias", "-1"]) == 0
    auto, _ = sf.read(tmp_path / "auto" / "in.wav")
    low, _ = sf.read(tmp_path / "low" / "in.wav")
    separator = load_model(model_path)
    assert separator.mask_bias == "auto" and separator.refiner_ is not None
    (expected,) = separator.set_params(mask_bias=-1.0).predict([sf.read(wav)[0]])
    # Written as 16-bit PCM: within two quantisation steps.
    np.testing.assert_allclose(low, expected, atol=2 / 32768)
    assert np.abs(low - auto).max() > 1e-3

    # A model without the refinement stage refuses a bias before any file.
    separator.refiner_ = None
    plain = save_model(separator, tmp_path / "plain.joblib")
    status = main(
        ["denoise", "--model", str(plain), str(wav), "-o", str(tmp_path / "x"),
         "--mask-bias", "0.5"]
    )  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert status == 1 and err.startswith("skblsh: error:") and "mask_bias" in err
    assert not (tmp_path / "x").exists()
