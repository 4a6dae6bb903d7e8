"""Tests of skblsh.datasets: mixing, demo data, corpus protocols, local loaders."""

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import skblsh
from skblsh.datasets import (
    AudioConversionWarning,
    AudioFileError,
    get_demo_path,
    load_audio_folder,
    load_corpus,
    load_demand,
    load_demo,
    load_timit,
    make_mixtures,
    make_separation_task,
)

SR = 16000
SEEDS = [0, 1, 42]


def snr(source, noise):
    s = np.asarray(source, dtype=np.float64)
    n = np.asarray(noise, dtype=np.float64)
    return 10 * np.log10(np.sum(s**2) / np.sum(n**2))


def _signals(seed, n_speech=4, n_noise=5, dtype=np.float64):
    rng = np.random.default_rng(seed)
    speech = [
        (0.3 * rng.standard_normal(rng.integers(500, 3000))).astype(dtype)
        for _ in range(n_speech)
    ]
    noise = [
        (0.1 * rng.standard_normal(rng.integers(200, 5000))).astype(dtype)
        for _ in range(n_noise)
    ]
    return speech, noise


# --------------------------------------------------------------- make_mixtures


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("snr_db", [-10.0, 0.0, 3.7, 25.0])
def test_make_mixtures_exact_snr(seed, snr_db):
    speech, noise = _signals(seed)
    mix = make_mixtures(speech, noise, snr_db=snr_db, n_noises=3, random_state=seed)
    assert len(mix.mixtures) == 12
    for m, s, n in zip(mix.mixtures, mix.sources, mix.noises, strict=True):
        assert abs(snr(s, n) - snr_db) < 1e-6
        np.testing.assert_array_equal(m, s + n)


def test_make_mixtures_exact_snr_float32():
    speech, noise = _signals(0, dtype=np.float32)
    mix = make_mixtures(speech, noise, snr_db=5.0, n_noises=2, random_state=0)
    for m, s, n in zip(mix.mixtures, mix.sources, mix.noises, strict=True):
        assert m.dtype == s.dtype == n.dtype == np.float32
        # Measured error < 1e-6 dB; float32 rounding of the scaled noise only.
        assert abs(snr(s, n) - 5.0) < 1e-5


def test_make_mixtures_sources_are_the_speech_and_indices():
    speech, noise = _signals(3)
    mix = make_mixtures(speech, noise, n_noises=2, random_state=0)
    np.testing.assert_array_equal(mix.speech_index, [0, 0, 1, 1, 2, 2, 3, 3])
    assert mix.speech_index.dtype == mix.noise_index.dtype == np.int64
    for k, i in enumerate(mix.speech_index):
        np.testing.assert_array_equal(mix.sources[k], speech[i])
        assert mix.mixtures[k].shape == speech[i].shape == mix.noises[k].shape
    # The sources do not alias the caller's arrays.
    mix.sources[0][0] = 123.0
    assert speech[0][0] != 123.0


def test_make_mixtures_crops_long_and_tiles_short_noise():
    rng = np.random.default_rng(0)
    speech = [rng.standard_normal(1000)]
    long_noise = rng.standard_normal(5000)
    short_noise = rng.standard_normal(300)
    for clip in (long_noise, short_noise):
        for seed in range(20):
            mix = make_mixtures(speech, [clip], random_state=seed)
            offset, gain = mix.noise_offset[0], mix.noise_gain[0]
            expected = clip[(offset + np.arange(1000)) % clip.shape[0]] * gain
            np.testing.assert_allclose(mix.noises[0], expected, rtol=1e-12)
            assert 0 <= offset < clip.shape[0]
            if clip is long_noise:
                # A long clip is cropped, never wrapped around.
                assert offset + 1000 <= clip.shape[0]
    # Offsets over seeds are spread over the whole valid range.
    offsets = [
        make_mixtures(speech, [long_noise], random_state=s).noise_offset[0]
        for s in range(50)
    ]
    assert min(offsets) < 1000 and max(offsets) > 3000


def test_make_mixtures_noise_exactly_as_long_as_speech():
    speech = [np.linspace(-1, 1, 400)]
    noise = [np.cos(np.arange(400.0))]
    mix = make_mixtures(speech, noise, random_state=0)
    assert mix.noise_offset[0] == 0
    np.testing.assert_allclose(mix.noises[0], noise[0] * mix.noise_gain[0])


def test_make_mixtures_draws_different_clips_and_groups():
    speech, noise = _signals(0, n_speech=30, n_noise=6)
    mix = make_mixtures(speech, noise, n_noises=3, random_state=0)
    for i in range(30):
        assert len(set(mix.noise_index[mix.speech_index == i])) == 3
    groups = np.array(["a", "a", "a", "b", "c", "c"])
    mix = make_mixtures(speech, noise, n_noises=3, noise_groups=groups, random_state=0)
    for i in range(30):
        drawn = groups[mix.noise_index[mix.speech_index == i]]
        assert sorted(drawn) == ["a", "b", "c"]
    # Every clip of group "a" gets used, not only the first one.
    assert set(mix.noise_index[groups[mix.noise_index] == "a"]) == {0, 1, 2}


@pytest.mark.parametrize("seed", SEEDS)
def test_make_mixtures_is_deterministic(seed):
    speech, noise = _signals(seed)
    a = make_mixtures(speech, noise, n_noises=2, random_state=seed)
    b = make_mixtures(speech, noise, n_noises=2, random_state=seed)
    c = make_mixtures(speech, noise, n_noises=2, random_state=seed + 1)
    for m1, m2 in zip(a.mixtures, b.mixtures, strict=True):
        np.testing.assert_array_equal(m1, m2)
    np.testing.assert_array_equal(a.noise_offset, b.noise_offset)
    assert not np.array_equal(a.noise_offset, c.noise_offset)


def test_make_mixtures_max_abs_keeps_snr_and_sum():
    speech, noise = _signals(0)
    loud = [10 * s for s in speech]
    mix = make_mixtures(loud, noise, snr_db=-5.0, max_abs=0.9, random_state=0)
    for m, s, n, c in zip(
        mix.mixtures, mix.sources, mix.noises, mix.scale, strict=True
    ):
        assert np.max(np.abs(m)) <= 0.9
        assert np.max(np.abs(m)) > 0.899
        assert c < 1
        assert abs(snr(s, n) - (-5.0)) < 1e-6
        np.testing.assert_array_equal(m, s + n)
    quiet = make_mixtures(
        [0.01 * s for s in speech], noise, max_abs=0.9, random_state=0
    )
    np.testing.assert_array_equal(quiet.scale, 1.0)


@pytest.mark.parametrize(
    "kwargs, err, match",
    [
        (
            dict(speech=[np.ones(10), np.zeros(10)]),
            ValueError,
            r"all zeros in speech\[1\]",
        ),
        (dict(noise=[np.zeros(10)]), ValueError, r"all zeros in noise\[0\]"),
        (dict(n_noises=3), ValueError, r"n_noises <= the number of noise clips \(2\)"),
        (
            dict(n_noises=2, noise_groups=["a", "a"]),
            ValueError,
            r"number of noise groups \(1\), got n_noises=2",
        ),
        (dict(noise_groups=["a"]), ValueError, r"one label per noise clip \(2\)"),
        (dict(speech=np.ones(10)), ValueError, "wrap it in a list"),
        (dict(speech=[np.ones(10, dtype=int)]), TypeError, "Integer PCM"),
        (dict(noise=[]), ValueError, "at least one waveform"),
        (dict(snr_db=np.inf), ValueError, "'snr_db' parameter"),
        (dict(snr_db=np.nan), ValueError, "'snr_db' parameter"),
        (dict(n_noises=0), ValueError, "'n_noises' parameter"),
        (dict(max_abs=0.0), ValueError, "'max_abs' parameter"),
    ],
)
def test_make_mixtures_rejects_bad_input(kwargs, err, match):
    args = dict(speech=[np.ones(10)], noise=[np.ones(5), np.ones(20)])
    args.update(kwargs)
    with pytest.raises(err, match=match):
        make_mixtures(args.pop("speech"), args.pop("noise"), **args)


def test_make_mixtures_silent_noise_segment():
    noise = [np.concatenate([np.zeros(1000), np.ones(10)])]
    with pytest.raises(
        ValueError, match=r"noise segment drawn for speech\[0\].*all zeros"
    ):
        for seed in range(10):
            make_mixtures([np.ones(50)], noise, random_state=seed)


# ------------------------------------------------------------------- demo data

ALLOWED_LICENSES = {"CC0-1.0", "CC-BY-3.0", "CC-BY-SA-3.0"}


def _demo_manifest():
    with open(get_demo_path() / "manifest.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_demo_data_ships_inside_the_package():
    package = Path(skblsh.__file__).resolve().parent
    assert get_demo_path().resolve().is_relative_to(package / "datasets")


def test_demo_manifest_licenses_are_permissive_and_files_match():
    rows = _demo_manifest()
    assert {r["license"] for r in rows} <= ALLOWED_LICENSES
    for r in rows:
        assert "GPL" not in r["license"].upper()
        assert r["source_package"] not in {
            "ktuberling-data",
            "wesnoth-1.16-data",
            "widelands-data",
        }
        assert r["copyright"].strip()
    listed = {r["path"] for r in rows}
    on_disk = {
        p.relative_to(get_demo_path()).as_posix()
        for p in get_demo_path().rglob("*.flac")
    }
    assert listed == on_disk


def test_demo_attribution_covers_every_file():
    text = (get_demo_path() / "ATTRIBUTION.md").read_text()
    for r in _demo_manifest():
        line = next(ln for ln in text.splitlines() if f"`{r['path']}`" in ln)
        assert r["license"] in line and r["copyright"] in line
        assert r["source_file"] in line and r["source_package"] in line
    for license_ in ALLOWED_LICENSES:
        assert license_ in text


def test_demo_files_are_small_16k_mono_pcm16():
    rows = _demo_manifest()
    total = sum((get_demo_path() / r["path"]).stat().st_size for r in rows)
    assert 3e6 < total < 5e6
    for r in rows:
        info = sf.info(get_demo_path() / r["path"])
        assert (info.samplerate, info.channels, info.subtype) == (SR, 1, "PCM_16")
        assert info.duration == pytest.approx(float(r["duration_s"]), abs=1e-3)
        assert info.duration <= 10.0
    speech = [r for r in rows if r["kind"] == "speech"]
    noise = [r for r in rows if r["kind"] == "noise"]
    assert len({r["group"] for r in speech}) == 3 and len(speech) == 36
    assert len({r["group"] for r in noise}) == 6 and len(noise) == 12


def test_load_demo_sizes_and_protocol():
    demo = load_demo()
    assert demo.sr == SR
    assert len(demo.mixtures_train) == len(demo.sources_train) == 54
    assert len(demo.mixtures_test) == len(demo.sources_test) == 9
    assert demo.groups_train.shape == (54,) and demo.groups_test.shape == (9,)
    # 27 training utterances, each mixed with 2 different noise types.
    ids, counts = np.unique(demo.groups_train, return_counts=True)
    assert ids.shape == (27,) and np.all(counts == 2)
    for u in ids:
        assert len(set(demo.noise_types_train[demo.groups_train == u])) == 2
    # Disjoint utterances and disjoint noise clips.
    assert not set(demo.groups_train) & set(demo.groups_test)
    assert not set(demo.noise_ids_train) & set(demo.noise_ids_test)
    assert not set(demo.utterances_train) & set(demo.utterances_test)
    # Closed protocol: test speakers and noise types were seen in training.
    assert set(demo.speakers_test) <= set(demo.speakers_train)
    assert set(demo.noise_types_test) <= set(demo.noise_types_train)
    for split in ("train", "test"):
        for m, s, n in zip(
            demo[f"mixtures_{split}"],
            demo[f"sources_{split}"],
            demo[f"noises_{split}"],
            strict=True,
        ):
            assert m.dtype == np.float32
            assert 1.0 <= m.shape[0] / SR <= 5.0
            assert abs(snr(s, n)) < 1e-4
    assert "CC-BY-SA-3.0" in demo.DESCR and "54" in demo.DESCR


def test_load_demo_is_deterministic_and_snr_is_honoured():
    a, b = load_demo(random_state=0), load_demo(random_state=0)
    c = load_demo(snr_db=-5.0, random_state=1)
    for m1, m2 in zip(
        a.mixtures_train + a.mixtures_test,
        b.mixtures_train + b.mixtures_test,
        strict=True,
    ):
        np.testing.assert_array_equal(m1, m2)
    assert not np.array_equal(a.groups_test, c.groups_test)
    for s, n in zip(c.sources_test, c.noises_test, strict=True):
        assert abs(snr(s, n) + 5.0) < 1e-4


def test_load_corpus_on_demo_data():
    speech = load_corpus(get_demo_path(), kind="speech", groups="it_m_carlo")
    assert len(speech.waveforms) == 12
    assert set(speech.groups) == {"it_m_carlo"} and set(speech.kinds) == {"speech"}
    assert set(speech.licenses) == {"CC-BY-3.0"}
    assert np.all((speech.durations >= 1.5) & (speech.durations <= 4.0))
    assert all(Path(p).is_file() for p in speech.paths)


# ------------------------------------------------------------ corpus protocols


@pytest.mark.parametrize("seed", SEEDS)
def test_closed_protocol_on_fake_corpus(tmp_path, seed, fake_corpus):
    root = fake_corpus(tmp_path)
    task = make_separation_task(root, test_size=0.4, n_noises=2, random_state=seed)
    assert task.protocol == "closed"
    # 5 utterances per speaker -> 2 test, 3 train.
    assert len(task.mixtures_train) == 3 * 3 * 2 and len(task.mixtures_test) == 3 * 2
    assert not set(task.groups_train) & set(task.groups_test)
    assert (
        set(task.speakers_test) == set(task.speakers_train) == {"spk0", "spk1", "spk2"}
    )
    # type0 (2 clips) and type1 (3 clips): disjoint clips; type2 (1 clip) is
    # split in time, so its id appears in both splits.
    shared = set(task.noise_ids_train) & set(task.noise_ids_test)
    names = load_corpus(root).groups
    assert {names[i] for i in shared} <= {"type2"}
    assert (
        task.noise_groups_train == task.noise_groups_test == ["type0", "type1", "type2"]
    )


def test_closed_protocol_splits_single_clip_in_time(tmp_path, fake_corpus):
    root = fake_corpus(tmp_path, noise_clips=(1, 1))
    corpus = load_corpus(root)
    clip = corpus.waveforms[-1].astype(np.float64)
    task = make_separation_task(corpus, test_size=0.25, n_noises=2, random_state=0)
    cut = int(round(0.75 * clip.shape[0]))
    single = len(corpus.waveforms) - 1
    checked = set()
    for split, part in (("train", clip[:cut]), ("test", clip[cut:])):
        for n, i in zip(
            task[f"noises_{split}"], task[f"noise_ids_{split}"], strict=True
        ):
            if i != single:
                continue
            # Each noise is a scaled (possibly tiled) excerpt of its own part.
            n = n.astype(np.float64)
            scale = np.max(np.abs(n)) / np.max(np.abs(part))
            assert any(
                np.allclose(
                    n,
                    scale * np.take(part, k + np.arange(n.shape[0]), mode="wrap"),
                    atol=1e-5,
                )
                for k in range(part.shape[0])
            ), split
            checked.add(split)
    assert checked == {"train", "test"}


def test_open_protocol_on_fake_corpus(tmp_path, fake_corpus):
    root = fake_corpus(tmp_path, n_speakers=4, noise_clips=(2, 2, 2, 2))
    task = make_separation_task(
        root, protocol="open", test_size=0.25, n_noises=2, random_state=0
    )
    assert len(task.speech_groups_test) == 1 and len(task.noise_groups_test) == 1
    assert not set(task.speakers_train) & set(task.speakers_test)
    assert not set(task.noise_types_train) & set(task.noise_types_test)
    assert not set(task.groups_train) & set(task.groups_test)
    assert len(task.mixtures_train) == 3 * 5 * 2 and len(task.mixtures_test) == 5
    named = make_separation_task(
        root,
        protocol="open",
        test_speech_groups=["spk0", "spk3"],
        test_noise_groups="type1",
        n_noises=3,
        random_state=0,
    )
    assert named.speech_groups_test == ["spk0", "spk3"]
    assert named.speech_groups_train == ["spk1", "spk2"]
    assert named.noise_groups_test == ["type1"]
    assert set(named.noise_types_test) == {"type1"}
    # Different seeds hold out different groups.
    held = {
        tuple(
            make_separation_task(
                root, protocol="open", random_state=s
            ).speech_groups_test
        )
        for s in range(8)
    }
    assert len(held) > 1


def test_separation_task_max_utterances_and_group_selection(tmp_path, fake_corpus):
    root = fake_corpus(tmp_path)
    task = make_separation_task(
        root,
        max_utterances=3,
        speech_groups=["spk0", "spk2"],
        noise_groups=["type0", "type1"],
        test_size=0.34,
        random_state=0,
    )
    assert task.speech_groups_train == ["spk0", "spk2"]
    assert task.noise_groups_train == ["type0", "type1"]
    # 3 utterances per speaker -> 1 test, 2 train.
    assert len(np.unique(task.groups_train)) == 4 and len(task.mixtures_test) == 2
    a = make_separation_task(root, max_utterances=3, random_state=5)
    b = make_separation_task(root, max_utterances=3, random_state=5)
    np.testing.assert_array_equal(a.groups_train, b.groups_train)
    for m1, m2 in zip(a.mixtures_train, b.mixtures_train, strict=True):
        np.testing.assert_array_equal(m1, m2)


def test_separation_task_from_path_and_from_corpus_agree(tmp_path, fake_corpus):
    root = fake_corpus(tmp_path)
    a = make_separation_task(root, random_state=3)
    b = make_separation_task(load_corpus(root), random_state=3)
    np.testing.assert_array_equal(a.groups_test, b.groups_test)
    for m1, m2 in zip(a.mixtures_test, b.mixtures_test, strict=True):
        np.testing.assert_array_equal(m1, m2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(test_speech_groups=["spk0"]), "only in the open protocol"),
        (
            dict(speech_groups=["nobody"]),
            r"speech_groups to be among.*unknown \['nobody'\]",
        ),
        (dict(noise_groups="type9"), r"noise_groups to be among"),
        (
            dict(protocol="open", test_noise_groups=["type0", "type1", "type2"]),
            "at least one group for training",
        ),
        (dict(n_noises=4), r"n_noises <= the number of noise groups \(3\)"),
        (dict(max_utterances=1), "at least 2 utterances of speaker 'spk0'"),
        (dict(protocol="open", speech_groups="spk1"), "at least 2 speech_groups"),
        (dict(protocol="mixed"), "'protocol' parameter"),
        (dict(test_size=1.0), "'test_size' parameter"),
    ],
)
def test_separation_task_rejects_bad_input(tmp_path, kwargs, match, fake_corpus):
    root = fake_corpus(tmp_path)
    with pytest.raises(ValueError, match=match):
        make_separation_task(root, **kwargs)


def test_corpus_manifest_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="holding manifest.csv"):
        load_corpus(tmp_path)
    with pytest.raises(FileNotFoundError, match="holding manifest.csv"):
        make_separation_task(tmp_path)
    (tmp_path / "manifest.csv").write_text("path,group\nspeech/a.flac,spk0\n")
    with pytest.raises(ValueError, match=r"columns path, kind, group.*missing: kind"):
        load_corpus(tmp_path)
    (tmp_path / "manifest.csv").write_text("path,kind,group\n")
    with pytest.raises(ValueError, match="at least one file, got 0"):
        load_corpus(tmp_path)
    with pytest.raises(ValueError, match="without"):
        make_separation_task({"waveforms": []})


def test_corpus_row_pointing_at_missing_file(tmp_path, fake_corpus):
    root = fake_corpus(
        tmp_path, rows_extra=[("speech/spk0/gone.flac", "speech", "spk0")]
    )
    with pytest.raises(FileNotFoundError, match=r"'speech/spk0/gone.flac' missing"):
        load_corpus(root)
    with pytest.raises(FileNotFoundError, match="gone.flac"):
        make_separation_task(root, random_state=0)
    # Not needed by the selection: no error.
    load_corpus(root, kind="noise")


def test_corpus_with_corrupt_file(tmp_path, fake_corpus):
    root = fake_corpus(tmp_path)
    (root / "noise/type0/c0.flac").write_text("garbage")
    with pytest.raises(AudioFileError, match="c0.flac"):
        load_corpus(root, kind="noise")


def test_corpus_resampling_is_reported_once(tmp_path, fake_corpus):
    root = fake_corpus(tmp_path)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        corpus = load_corpus(root, kind="noise", sr=8000)
    conv = [w for w in record if issubclass(w.category, AudioConversionWarning)]
    assert len(conv) == 1
    assert "6 of 6 files converted (resampled 16000 Hz -> 8000 Hz)" in str(
        conv[0].message
    )
    assert corpus.durations == pytest.approx([0.5] * 6)


# ----------------------------------------------------- the shared dev corpus


def test_real_corpus_protocols(corpus_path):
    noise = load_corpus(corpus_path, kind="noise", groups=["rain", "wind"])
    assert set(noise.groups) == {"rain", "wind"}
    assert all(len(y) >= 5 * SR for y in noise.waveforms)

    closed = make_separation_task(
        corpus_path,
        protocol="closed",
        max_utterances=5,
        noise_groups=["rain", "wind", "birds", "fire"],
        random_state=0,
    )
    assert len(closed.speech_groups_train) == 5
    assert len(closed.mixtures_train) == 5 * 4 * 2 and len(closed.mixtures_test) == 5
    assert not set(closed.groups_train) & set(closed.groups_test)
    assert not set(closed.noise_ids_train) & set(closed.noise_ids_test)
    assert set(closed.speakers_test) <= set(closed.speakers_train)

    opened = make_separation_task(
        corpus_path, protocol="open", max_utterances=4, random_state=0
    )
    assert not set(opened.speakers_train) & set(opened.speakers_test)
    assert not set(opened.noise_types_train) & set(opened.noise_types_test)
    assert not set(opened.groups_train) & set(opened.groups_test)
    assert (len(opened.speech_groups_test), len(opened.noise_groups_test)) == (1, 2)


# --------------------------------------------------------------- local loaders


def _tone(n=1600, sr=SR):
    return 0.1 * np.sin(2 * np.pi * 300 * np.arange(n) / sr)


def _fake_timit(root, upper=True):
    case = str.upper if upper else str.lower
    layout = {
        ("train", "dr1", "fcjf0"): ["sa1", "si1027"],
        ("train", "dr2", "mdab0"): ["sa1"],
        ("test", "dr1", "faks0"): ["sx133"],
    }
    for (subset, dr, spk), sentences in layout.items():
        folder = root / "TIMIT" / case(subset) / case(dr) / case(spk)
        folder.mkdir(parents=True)
        for s in sentences:
            sf.write(
                folder / case(f"{s}.wav"), _tone(), SR, format="NIST", subtype="PCM_16"
            )
            (folder / case(f"{s}.phn")).write_text("0 1600 h#\n")
    return root


@pytest.mark.parametrize("upper", [True, False])
def test_load_timit_fake_tree(tmp_path, upper):
    root = _fake_timit(tmp_path, upper=upper)
    train = load_timit(root, subset="train")
    assert train.groups.tolist() == ["FCJF0", "FCJF0", "MDAB0"]
    assert train.dialect_regions.tolist() == ["DR1", "DR1", "DR2"]
    assert train.sexes.tolist() == ["F", "F", "M"]
    assert train.sentences.tolist() == ["SA1", "SI1027", "SA1"]
    np.testing.assert_allclose(train.waveforms[0], _tone(), atol=2 / 32768)
    np.testing.assert_allclose(train.durations, 0.1)
    test = load_timit(root, subset="test")
    assert test.groups.tolist() == ["FAKS0"]


def test_load_timit_prefers_riff_copy(tmp_path):
    root = _fake_timit(tmp_path)
    folder = root / "TIMIT" / "TRAIN" / "DR2" / "MDAB0"
    sf.write(folder / "SA1.WAV.wav", 2 * _tone(), SR)
    train = load_timit(root)
    assert len(train.waveforms) == 3
    assert train.paths[2].endswith("SA1.WAV.wav")
    assert np.max(train.waveforms[2]) == pytest.approx(0.2, abs=1e-3)


def test_load_timit_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        load_timit(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no TRAIN folder"):
        load_timit(tmp_path)
    (tmp_path / "TRAIN" / "DR1" / "FCJF0").mkdir(parents=True)
    with pytest.raises(ValueError, match="got none"):
        load_timit(tmp_path)
    (tmp_path / "TRAIN" / "DR1" / "FCJF0" / "SA1.WAV").write_text("not audio")
    with pytest.raises(AudioFileError, match="SA1.WAV"):
        load_timit(tmp_path)
    with pytest.raises(ValueError, match="'subset' parameter"):
        load_timit(tmp_path, subset="dev")


def test_load_demand_fake_tree(tmp_path):
    for env in ["DKITCHEN", "STRAFFIC", "OOFFICE"]:
        (tmp_path / "demand" / env).mkdir(parents=True)
        for ch in (1, 2):
            sf.write(
                tmp_path / "demand" / env / f"ch{ch:02d}.wav",
                ch * _tone(4800, 48000),
                48000,
            )
    with pytest.warns(AudioConversionWarning, match="3 of 3 files converted"):
        demand = load_demand(tmp_path, channel=2)
    assert demand.groups.tolist() == ["DKITCHEN", "OOFFICE", "STRAFFIC"]
    assert all(p.endswith("ch02.wav") for p in demand.paths)
    np.testing.assert_allclose(demand.durations, 0.1)
    with pytest.warns(AudioConversionWarning):
        sub = load_demand(tmp_path, environments=["straffic"], sr=48000 // 2)
    assert sub.groups.tolist() == ["STRAFFIC"] and sub.sr == 24000
    with pytest.raises(ValueError, match=r"got unknown \['PCAFETER'\]"):
        load_demand(tmp_path, environments="PCAFETER")
    with pytest.raises(
        ValueError, match="hold DEMAND recordings <ENVIRONMENT>/ch03.wav"
    ):
        load_demand(tmp_path, channel=3)
    with pytest.raises(ValueError, match="'channel' parameter"):
        load_demand(tmp_path, channel=17)
    (tmp_path / "copy" / "DKITCHEN").mkdir(parents=True)
    sf.write(tmp_path / "copy" / "DKITCHEN" / "ch01.wav", _tone(), SR)
    with pytest.raises(ValueError, match="got two for DKITCHEN"):
        load_demand(tmp_path)


def test_load_audio_folder_flat_and_nested(tmp_path):
    flat = tmp_path / "duan"
    flat.mkdir()
    for name in ["n1.wav", "n2.WAV", "notes.txt"]:
        if name.endswith("txt"):
            (flat / name).write_text("x")
        else:
            sf.write(flat / name, _tone(), SR)
    data = load_audio_folder(flat)
    assert data.groups.tolist() == ["n1", "n2"]
    np.testing.assert_allclose(data.durations, 0.1)

    nested = tmp_path / "typed"
    for group in ["birds", "rain"]:
        (nested / group).mkdir(parents=True)
        sf.write(nested / group / "a.flac", _tone(), SR)
        sf.write(nested / group / "b.flac", _tone(), SR)
    data = load_audio_folder(nested, pattern="**/*.flac")
    assert data.groups.tolist() == ["birds", "birds", "rain", "rain"]


def test_load_audio_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such folder"):
        load_audio_folder(tmp_path / "missing")
    (tmp_path / "f.wav").write_text("x")
    with pytest.raises(NotADirectoryError, match="which is a file"):
        load_audio_folder(tmp_path / "f.wav")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"matching '\*\*/\*.wav', got none"):
        load_audio_folder(tmp_path / "empty")
    with pytest.raises(AudioFileError, match="f.wav"):
        load_audio_folder(tmp_path)
