"""Tests of skblsh.datasets._io: read_audio / write_audio."""

import os
import warnings

import numpy as np
import pytest
import soundfile as sf

from skblsh.datasets import (
    AudioConversionWarning,
    AudioFileError,
    _io,
    read_audio,
    write_audio,
)

SR = 16000


def _tone(freq=440.0, seconds=0.5, sr=SR, amp=0.5):
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float64)


def _peak_hz(y, sr):
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return np.argmax(spectrum) * sr / len(y)


def test_read_audio_mono_16k_is_float32_and_silent(tmp_path):
    y = _tone()
    sf.write(tmp_path / "a.wav", y, SR, subtype="PCM_16")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z = read_audio(tmp_path / "a.wav")
    assert z.dtype == np.float32 and z.shape == y.shape
    # libsndfile writes with a 32767 scale and reads with 32768: about 1 step.
    assert np.max(np.abs(z - y)) <= 1.5 / 32768


def test_read_audio_downmixes_stereo_with_warning(tmp_path):
    left, right = _tone(440), _tone(1000, amp=0.25)
    sf.write(tmp_path / "st.wav", np.stack([left, right], axis=1), SR, subtype="FLOAT")
    with pytest.warns(AudioConversionWarning, match=r"st\.wav: down-mixed 2 channels"):
        z = read_audio(tmp_path / "st.wav")
    np.testing.assert_allclose(z, (left + right) / 2, atol=1e-6)


@pytest.mark.parametrize("orig_sr", [8000, 22050, 44100, 48000])
def test_read_audio_resamples_with_warning(tmp_path, orig_sr):
    y = _tone(440, seconds=1.0, sr=orig_sr)
    sf.write(tmp_path / "r.flac", y, orig_sr)
    with pytest.warns(AudioConversionWarning, match=f"resampled {orig_sr} Hz -> 16000"):
        z = read_audio(tmp_path / "r.flac", sr=SR)
    assert z.dtype == np.float32
    assert abs(z.shape[0] - SR) <= 1
    assert abs(_peak_hz(z, SR) - 440) <= 2
    # The tone's level survives resampling (away from the edges).
    rms = np.sqrt(np.mean(z[1000:-1000].astype(np.float64) ** 2))
    assert rms == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_read_audio_reads_nist_sphere(tmp_path):
    y = _tone()
    sf.write(tmp_path / "SA1.WAV", y, SR, format="NIST", subtype="PCM_16")
    z = read_audio(tmp_path / "SA1.WAV")
    assert np.max(np.abs(z - y)) <= 1.5 / 32768


def _bad_files(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "text.wav").write_text("this is not audio\n" * 20)
    (tmp_path / "random.flac").write_bytes(np.random.default_rng(0).bytes(4096))
    (tmp_path / "folder.wav").mkdir()
    sf.write(tmp_path / "nosamples.wav", np.zeros(0), SR)
    sf.write(tmp_path / "nan.wav", np.array([0.0, np.nan, 0.1]), SR, subtype="FLOAT")
    good = tmp_path / "good.wav"
    sf.write(good, _tone(), SR)
    (tmp_path / "truncated.wav").write_bytes(good.read_bytes()[:30])


@pytest.mark.parametrize(
    "name, err, match",
    [
        ("missing.wav", FileNotFoundError, "no such file"),
        ("folder.wav", AudioFileError, "which is a folder"),
        ("empty.wav", AudioFileError, r"empty \(0 bytes\)"),
        ("text.wav", AudioFileError, "readable audio file.*libsndfile"),
        ("random.flac", AudioFileError, "readable audio file.*libsndfile"),
        ("truncated.wav", AudioFileError, "libsndfile"),
        ("nosamples.wav", AudioFileError, "0 samples"),
        ("nan.wav", AudioFileError, "NaN or infinite"),
    ],
)
def test_read_audio_bad_files_give_one_line_error(tmp_path, name, err, match):
    _bad_files(tmp_path)
    with pytest.raises(err, match=match) as info:
        read_audio(tmp_path / name)
    message = str(info.value)
    assert name in message and "\n" not in message
    # No chained libsndfile traceback.
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__ or info.value.__context__ is None


def test_audio_file_error_is_value_error():
    assert issubclass(AudioFileError, ValueError)
    assert issubclass(AudioConversionWarning, UserWarning)


@pytest.mark.parametrize("subtype, atol", [("FLOAT", 0.0), ("PCM_24", 1e-6)])
def test_write_audio_round_trip(tmp_path, subtype, atol):
    y = _tone().astype(np.float32)
    out = write_audio(tmp_path / "x.wav", y, sr=SR, subtype=subtype)
    assert out == tmp_path / "x.wav"
    info = sf.info(out)
    assert (info.format, info.subtype, info.samplerate, info.channels) == (
        "WAV",
        subtype,
        SR,
        1,
    )
    np.testing.assert_allclose(read_audio(out), y, atol=atol)


def test_write_audio_flac_and_case_insensitive_suffix(tmp_path):
    out = write_audio(tmp_path / "x.FLAC", _tone(), sr=8000)
    assert sf.info(out).format == "FLAC" and sf.info(out).samplerate == 8000


def test_write_audio_clips_with_warning(tmp_path):
    y = np.array([0.0, 1.5, -2.0, 0.5, 1.0])
    with pytest.warns(UserWarning, match="Clipping 2 of 5 samples"):
        out = write_audio(tmp_path / "c.wav", y, subtype="FLOAT")
    np.testing.assert_array_equal(read_audio(out), [0.0, 1.0, -1.0, 0.5, 1.0])


def test_write_audio_in_range_does_not_warn(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_audio(tmp_path / "ok.wav", np.array([-1.0, 0.0, 1.0]))


def test_write_audio_file_mode_follows_umask(tmp_path):
    out = write_audio(tmp_path / "m.wav", _tone())
    plain = tmp_path / "plain"
    plain.write_bytes(b"")
    assert out.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def _failing_write(fh, data, samplerate, **kwargs):
    fh.write(b"RIFF\x00\x00partial")
    fh.flush()
    raise OSError("disk full")


def test_write_audio_failure_leaves_no_partial_file(tmp_path, monkeypatch):
    monkeypatch.setattr(_io.sf, "write", _failing_write)
    with pytest.raises(OSError, match="disk full"):
        write_audio(tmp_path / "new.wav", _tone())
    assert list(tmp_path.iterdir()) == []


def test_write_audio_failure_keeps_previous_content(tmp_path, monkeypatch):
    target = tmp_path / "old.wav"
    write_audio(target, _tone())
    before = target.read_bytes()
    monkeypatch.setattr(_io.sf, "write", _failing_write)
    with pytest.raises(OSError, match="disk full"):
        write_audio(target, np.zeros(10))
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["old.wav"]


def test_write_audio_interrupted_leaves_no_partial_file(tmp_path, monkeypatch):
    def interrupted(fh, *args, **kwargs):
        fh.write(b"RIFF")
        raise KeyboardInterrupt

    monkeypatch.setattr(_io.sf, "write", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_audio(tmp_path / "k.wav", _tone())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (dict(path="x.mp3"), ValueError, r"Expected path to end in \.wav or \.flac"),
        (dict(path="x.flac", subtype="FLOAT"), ValueError, "PCM_16' or 'PCM_24'"),
        (dict(path="nowhere/x.wav"), FileNotFoundError, "existing folder"),
        (dict(y=np.zeros(10, dtype=np.int16)), TypeError, "Integer PCM"),
        (dict(y=np.zeros((2, 10))), ValueError, "1-D mono"),
        (dict(y=np.array([0.0, np.nan])), ValueError, "finite"),
        (dict(sr=0), ValueError, "'sr' parameter"),
        (dict(subtype="PCM_8"), ValueError, "'subtype' parameter"),
    ],
)
def test_write_audio_rejects_bad_input(tmp_path, kwargs, err, match):
    args = dict(path="x.wav", y=np.zeros(10))
    args.update(kwargs)
    with pytest.raises(err, match=match):
        write_audio(tmp_path / args.pop("path"), args.pop("y"), **args)
    assert list(tmp_path.iterdir()) == []


def test_read_audio_rejects_bad_parameters(tmp_path):
    with pytest.raises(ValueError, match="'sr' parameter"):
        read_audio(tmp_path / "x.wav", sr=0)
    with pytest.raises(TypeError, match="'path' parameter"):
        read_audio(123)
