import numpy as np
import pytest

from skblsh.utils._validation import check_audio, check_audio_list, check_sample_rate


def test_check_audio_accepts_float_waveform():
    y = np.linspace(-1, 1, 100, dtype=np.float32)
    out = check_audio(y)
    assert out.dtype == np.float32
    assert out.shape == (100,)


@pytest.mark.parametrize(
    "y, err, match",
    [
        (np.zeros(0), ValueError, "at least 1 samples, got 0"),
        (np.zeros((2, 100)), ValueError, r"1-D mono.*multichannel"),
        (np.array([0.0, np.nan]), ValueError, "finite"),
        (np.array([0.0, np.inf]), ValueError, "finite"),
        (np.zeros(10, dtype=np.int16), TypeError, "Integer PCM"),
        ("audio.wav", TypeError, "1-D floating-point waveform"),
    ],
)
def test_check_audio_rejects_bad_input(y, err, match):
    with pytest.raises(err, match=match):
        check_audio(y, name="mixture")


def test_check_audio_names_parameter_and_min_length():
    with pytest.raises(ValueError, match=r"mixture.*at least 1024 samples, got 10"):
        check_audio(np.zeros(10), name="mixture", min_samples=1024)
    with pytest.raises(ValueError, match="all zeros"):
        check_audio(np.zeros(10), allow_silent=False)


def test_check_audio_list():
    ys = check_audio_list([np.zeros(3), np.ones(5)], name="mixtures")
    assert [len(y) for y in ys] == [3, 5]
    with pytest.raises(ValueError, match="wrap it in a list"):
        check_audio_list(np.zeros(5), name="mixtures")
    with pytest.raises(ValueError, match="at least one waveform"):
        check_audio_list([], name="mixtures")
    with pytest.raises(ValueError, match=r"mixtures\[1\]"):
        check_audio_list([np.zeros(3), np.array([np.nan])], name="mixtures")


def test_check_sample_rate():
    assert check_sample_rate(16000.0) == 16000
    for bad in (0, -1, 1.5, True, "16k"):
        with pytest.raises(ValueError, match="sr"):
            check_sample_rate(bad)
