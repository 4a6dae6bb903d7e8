"""Tests of make_separation_task / load_corpus on several corpora, with the
training-diversity options, and of the random_state rule of skblsh.datasets."""

import importlib.util
import inspect
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from skblsh.datasets import (
    get_demo_path,
    load_corpus,
    load_demo,
    make_mixtures,
    make_separation_task,
)

SR = 16000
SEEDS = [0, 1, 2, 3]
TRAIN_OPTIONS = dict(
    gain_db=(-6, 3),
    noises_per_mixture=2,
    speed=(0.9, 1.1),
    pitch_semitones=(-1, 1),
    noise_shift=(-0.5, 0.5),
    noise_tilt=(-4, 4),
)


def snr(source, noise):
    s = np.asarray(source, dtype=np.float64)
    n = np.asarray(noise, dtype=np.float64)
    return 10 * np.log10(np.sum(s**2) / np.sum(n**2))


@pytest.fixture
def two_corpora(tmp_path, fake_corpus):
    a = fake_corpus(tmp_path / "a", n_speakers=3, noise_clips=(2, 2, 2, 2), prefix="a_")
    b = fake_corpus(
        tmp_path / "b",
        n_speakers=4,
        noise_clips=(2, 3, 2),
        prefix="b_",
        license_column=False,
        seed=1,
    )
    return a, b


def _assert_lists_equal(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


# ------------------------------------------------------------ several corpora


def test_load_corpus_pools_corpora_in_order(two_corpora):
    a, b = two_corpora
    both = load_corpus([a, b])
    one, two = load_corpus(a), load_corpus(b)
    assert both.groups.tolist() == one.groups.tolist() + two.groups.tolist()
    assert both.paths == one.paths + two.paths
    _assert_lists_equal(both.waveforms, one.waveforms + two.waveforms)
    # b's manifest has no license column.
    assert set(both.licenses[: len(one.paths)]) == {"CC0-1.0"}
    assert set(both.licenses[len(one.paths) :]) == {""}
    noise = load_corpus((a, b), kind="noise", groups=["a_type2", "b_type1"])
    assert noise.groups.tolist() == ["a_type2"] * 2 + ["b_type1"] * 3


@pytest.mark.parametrize("seed", SEEDS)
def test_open_protocol_on_two_corpora(two_corpora, seed):
    a, b = two_corpora
    task = make_separation_task(
        [a, b], protocol="open", test_size=0.3, n_noises=2, random_state=seed
    )
    speakers = {f"a_spk{i}" for i in range(3)} | {f"b_spk{i}" for i in range(4)}
    types = {f"a_type{i}" for i in range(4)} | {f"b_type{i}" for i in range(3)}
    # Held out across the union: 30% of 7 speakers and of 7 noise types.
    assert set(task.speech_groups_train) | set(task.speech_groups_test) == speakers
    assert set(task.noise_groups_train) | set(task.noise_groups_test) == types
    assert (len(task.speech_groups_test), len(task.noise_groups_test)) == (2, 2)
    assert not set(task.speakers_train) & set(task.speakers_test)
    assert not set(task.noise_types_train) & set(task.noise_types_test)
    assert not set(task.groups_train) & set(task.groups_test)
    assert not set(task.utterances_train) & set(task.utterances_test)
    # Every training speaker is used, from both corpora.
    assert set(task.speakers_train) == set(task.speech_groups_train)
    roots = {Path(u).parents[2] for u in task.utterances_train}
    assert roots == {a, b}


def test_open_protocol_union_holds_out_either_corpus(two_corpora):
    # Over seeds, held-out speakers come from both corpora.
    a, b = two_corpora
    held = set()
    for seed in range(10):
        task = make_separation_task([a, b], protocol="open", random_state=seed)
        held |= {s[0] for s in task.speech_groups_test}
    assert held == {"a", "b"}


def test_shared_group_names_are_merged(tmp_path, fake_corpus):
    # Both corpora name their speakers spk0.. and noise types type0..: one
    # group each, held out together.
    a = fake_corpus(tmp_path / "a", n_speakers=3, noise_clips=(2, 2, 2))
    b = fake_corpus(tmp_path / "b", n_speakers=3, noise_clips=(2, 2, 2), seed=1)
    for seed in range(4):
        task = make_separation_task(
            [a, b], protocol="open", test_size=0.34, random_state=seed
        )
        assert len(task.speech_groups_test) == len(task.noise_groups_test) == 1
        assert not set(task.speakers_train) & set(task.speakers_test)
        assert not set(task.noise_types_train) & set(task.noise_types_test)
        # The held-out speaker's 5 + 5 utterances are all in the test split.
        assert len(task.mixtures_test) == 10
        assert {Path(u).parents[2] for u in task.utterances_test} == {a, b}
    closed = make_separation_task([a, b], test_size=0.4, random_state=0)
    # 10 utterances per merged speaker -> 4 test, 6 train.
    assert len(closed.mixtures_test) == 3 * 4
    assert len(np.unique(closed.groups_train)) == 3 * 6


def test_paths_and_bunches_agree(two_corpora):
    a, b = two_corpora
    kwargs = dict(protocol="open", random_state=3, snr_db=(-5, 5), **TRAIN_OPTIONS)
    from_paths = make_separation_task([a, b], **kwargs)
    from_bunches = make_separation_task([load_corpus(a), load_corpus(b)], **kwargs)
    mixed = make_separation_task([a, load_corpus(b)], **kwargs)
    for other in (from_bunches, mixed):
        for key in ("mixtures_train", "mixtures_test", "sources_train"):
            _assert_lists_equal(from_paths[key], other[key])
        np.testing.assert_array_equal(from_paths.noise_ids_train, other.noise_ids_train)
        assert from_paths.utterances_test == other.utterances_test


def test_several_corpora_errors(two_corpora, tmp_path):
    a, b = two_corpora
    with pytest.raises(ValueError, match="appear once across the corpora.*twice"):
        make_separation_task([a, b, a])
    with pytest.raises(ValueError, match="twice"):
        load_corpus([a, Path(str(a) + "/.")])
    with pytest.raises(ValueError, match="got an empty list"):
        make_separation_task([])
    with pytest.raises(TypeError, match="list holding int"):
        make_separation_task([a, 3])
    with pytest.raises(TypeError, match="corpus folder or a list of corpus folders"):
        load_corpus([a, load_corpus(b)])
    with pytest.raises(FileNotFoundError, match="holding manifest.csv"):
        make_separation_task([a, tmp_path / "missing"])
    with pytest.raises(ValueError, match=r"share one sample rate, got \[8000, 16000\]"):
        with pytest.warns(UserWarning):
            slow = load_corpus(b, sr=8000)
        make_separation_task([load_corpus(a), slow])


def test_files_read_at_the_rate_of_bunches(two_corpora):
    a, b = two_corpora
    with pytest.warns(UserWarning, match="resampled 16000 Hz -> 8000 Hz"):
        slow = load_corpus(b, sr=8000)
    with pytest.warns(UserWarning, match="resampled 16000 Hz -> 8000 Hz"):
        task = make_separation_task([a, slow], random_state=0)
    assert task.sr == 8000
    # Fake speech is 0.3 s long in both corpora.
    assert {len(m) for m in task.mixtures_test} == {int(0.3 * 8000)}


# --------------------------------------------------------- training diversity


@pytest.mark.parametrize("protocol", ["closed", "open"])
def test_training_options_leave_the_test_split_alone(two_corpora, protocol):
    a, b = two_corpora
    kwargs = dict(protocol=protocol, n_noises=2, test_size=0.3, random_state=4)
    for snr_db in (0.0, (-5, 10)):
        plain = make_separation_task([a, b], snr_db=snr_db, **kwargs)
        diverse = make_separation_task([a, b], snr_db=snr_db, **kwargs, **TRAIN_OPTIONS)
        for key in ("mixtures_test", "sources_test", "noises_test"):
            _assert_lists_equal(plain[key], diverse[key])
        for key in ("groups_test", "noise_ids_test", "snr_db_test", "groups_train"):
            np.testing.assert_array_equal(plain[key], diverse[key])
        assert diverse.noise_ids_train.shape == (len(diverse.mixtures_train), 2)
        assert plain.noise_ids_train.shape == (len(plain.mixtures_train),)
        # ... while the training mixtures do change.
        lengths = [len(m) for m in diverse.mixtures_train]
        assert lengths != [len(m) for m in plain.mixtures_train]


def test_training_options_shape_the_training_set(two_corpora):
    a, b = two_corpora
    task = make_separation_task(
        [a, b],
        protocol="open",
        snr_db=(-5, 10),
        test_size=0.3,
        random_state=0,
        **TRAIN_OPTIONS,
    )
    n = len(task.mixtures_train)
    assert task.noise_types_train.shape == task.noise_ids_train.shape == (n, 2)
    for row in task.noise_types_train:
        assert row[0] != row[1]
    assert not set(task.noise_types_train.ravel()) & set(task.noise_types_test)
    for split in ("train", "test"):
        for m, s, x, target in zip(
            task[f"mixtures_{split}"],
            task[f"sources_{split}"],
            task[f"noises_{split}"],
            task[f"snr_db_{split}"],
            strict=True,
        ):
            assert -5 <= target <= 10
            assert abs(snr(s, x) - target) < 1e-4  # float32 audio
            np.testing.assert_array_equal(m, s + x)
    # Speed perturbation: 0.3-s utterances become 0.27-0.33 s.
    lengths = np.array([len(m) for m in task.mixtures_train]) / SR
    assert lengths.min() >= 0.3 / 1.1 - 1e-3 and lengths.max() <= 0.3 / 0.9 + 1e-3
    assert len(np.unique(lengths)) > 5
    assert {len(m) for m in task.mixtures_test} == {int(0.3 * SR)}
    assert "Training diversity: 2 noise types summed per mixture" in task.DESCR
    assert "noise shift [-0.5, 0.5] octaves, noise tilt [-4, 4] dB/octave" in (
        task.DESCR
    )
    assert "SNR [-5, 10] dB" in task.DESCR and "2 corpora pooled" in task.DESCR
    # The separator's groups: speaker, and the set of summed noise types.
    assert task.speaker_noise_train.shape == (n, 2)
    np.testing.assert_array_equal(task.speaker_noise_train[:, 0], task.speakers_train)
    joined = ["+".join(sorted(row)) for row in task.noise_types_train]
    assert task.speaker_noise_train[:, 1].tolist() == joined
    np.testing.assert_array_equal(
        task.speaker_noise_test,
        np.c_[task.speakers_test, task.noise_types_test].astype(str),
    )


def test_zero_noise_shift_and_tilt_are_the_plain_training_set(two_corpora):
    # `skblsh fit --noise-shift 0 --noise-tilt 0` turns the perturbation off.
    a, b = two_corpora
    kwargs = dict(protocol="open", test_size=0.3, random_state=2)
    plain = make_separation_task([a, b], **kwargs)
    off = make_separation_task([a, b], noise_shift=0.0, noise_tilt=0.0, **kwargs)
    on = make_separation_task([a, b], noise_shift=(-1, 1), noise_tilt=(-6, 6), **kwargs)
    _assert_lists_equal(plain.mixtures_train, off.mixtures_train)
    _assert_lists_equal(plain.sources_train, on.sources_train)
    assert not any(
        np.array_equal(x, y)
        for x, y in zip(plain.noises_train, on.noises_train, strict=True)
    )


def test_noise_shift_bound_is_checked_before_reading(tmp_path):
    # No corpus at this path: the bound must fail first, naming the option.
    with pytest.raises(ValueError, match=r"noise_shift within \[-4, 4\]"):
        make_separation_task(tmp_path / "missing", noise_shift=(-1, 5))


def test_training_options_need_enough_training_types(two_corpora):
    a, _ = two_corpora
    # 4 noise types, 1 held out in the open protocol: 3 left for 2 x 2 draws.
    with pytest.raises(ValueError, match=r"noise groups \(3\), got n_noises \*"):
        make_separation_task(a, protocol="open", noises_per_mixture=2, random_state=0)
    with pytest.raises(ValueError, match="gain_db to be a finite number or a"):
        make_separation_task(a, gain_db=(5, -5))
    with pytest.raises(ValueError, match="'noises_per_mixture' parameter"):
        make_separation_task(a, noises_per_mixture=0)


def test_scalar_task_matches_make_mixtures(two_corpora):
    # A task with scalar options draws exactly as make_mixtures does on the
    # same split (the plain path is untouched by the diversity machinery).
    a, _ = two_corpora
    task = make_separation_task(a, snr_db=2.0, test_size=0.4, random_state=0)
    again = make_separation_task(
        a, snr_db=2.0, test_size=0.4, gain_db=0.0, speed=1.0, random_state=0
    )
    _assert_lists_equal(task.mixtures_train, again.mixtures_train)
    np.testing.assert_array_equal(task.snr_db_train, 2.0)


# ---------------------------------------------------------- random_state rule


def test_random_state_defaults_follow_the_documented_rule():
    def default(f):
        return inspect.signature(f).parameters["random_state"].default

    assert default(make_mixtures) is None
    assert default(make_separation_task) is None
    assert default(load_demo) == 0


def test_unseeded_task_differs_between_calls(two_corpora):
    a, _ = two_corpora
    first = make_separation_task(a)
    second = make_separation_task(a)
    assert not all(
        np.array_equal(x, y)
        for x, y in zip(first.mixtures_train, second.mixtures_train, strict=True)
    )


# ------------------------------------------------------- the shared corpora


def test_real_corpora_open_protocol(corpus_path, extra_corpus_path):
    noise_groups = ["rain", "wind", "birds", "music", "lava", "harbor"]
    task = make_separation_task(
        [corpus_path, extra_corpus_path],
        protocol="open",
        test_size=0.3,
        max_utterances=2,
        noise_groups=noise_groups,
        snr_db=(-5, 10),
        gain_db=(-6, 0),
        noises_per_mixture=2,
        random_state=0,
    )
    speakers = set(task.speech_groups_train) | set(task.speech_groups_test)
    assert len(speakers) == 5 + 27
    assert (len(task.speech_groups_test), len(task.noise_groups_test)) == (10, 2)
    assert not set(task.speakers_train) & set(task.speakers_test)
    assert not set(task.noise_types_train.ravel()) & set(task.noise_types_test)
    assert set(task.noise_types_train.ravel()) == set(task.noise_groups_train)
    roots = {Path(u).parents[2].name for u in task.utterances_train}
    assert roots == {"corpus", "corpus-extra"}
    for s, n, target in zip(
        task.sources_test, task.noises_test, task.snr_db_test, strict=True
    ):
        assert abs(snr(s, n) - target) < 1e-4


def test_demo_data_rebuilds_from_the_corpus(corpus_path, tmp_path):
    # tools/make_demo_data.py (outside the package) still makes the vendored
    # files, sample for sample.
    script = Path(__file__).resolve().parents[1] / "tools" / "make_demo_data.py"
    spec = importlib.util.spec_from_file_location("make_demo_data", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(corpus_path, tmp_path)
    demo = get_demo_path()
    for name in ("manifest.csv", "ATTRIBUTION.md"):
        assert (tmp_path / name).read_text() == (demo / name).read_text()
    vendored = sorted(p.relative_to(demo) for p in demo.rglob("*.flac"))
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.flac")) == vendored
    for rel in vendored:
        np.testing.assert_array_equal(
            sf.read(tmp_path / rel, dtype="int16")[0],
            sf.read(demo / rel, dtype="int16")[0],
        )


# ------------------------------------------------------------ synthetic noise


@pytest.mark.parametrize("options", [{}, TRAIN_OPTIONS])
def test_synthetic_noise_adds_mixtures_and_changes_nothing_else(two_corpora, options):
    a, b = two_corpora
    kwargs = dict(protocol="open", test_size=0.3, snr_db=(-5, 10), random_state=4)
    plain = make_separation_task([a, b], **options, **kwargs)
    task = make_separation_task([a, b], synthetic_noise=0.5, **options, **kwargs)
    n = len(plain.mixtures_train)
    k = int(round(0.5 * n))
    assert len(task.mixtures_train) == n + k
    # The recorded training mixtures and the whole test split are those
    # made without the option.
    for key in ("mixtures", "sources", "noises"):
        _assert_lists_equal(task[f"{key}_train"][:n], plain[f"{key}_train"])
        _assert_lists_equal(task[f"{key}_test"], plain[f"{key}_test"])
    for key in ("groups", "speakers", "snr_db", "noise_ids", "noise_types"):
        np.testing.assert_array_equal(task[f"{key}_train"][:n], plain[f"{key}_train"])
    np.testing.assert_array_equal(
        task.speaker_noise_train[:n], plain.speaker_noise_train
    )
    # Each new mixture: a training source, synthetic noise at its SNR.
    sources = {}
    for i, x in enumerate(plain.sources_train):
        sources.setdefault(x.tobytes(), []).append(i)
    kinds = ["chirps", "sweeps", "impacts"]
    for j in range(k):
        m = n + j
        source, noise = task.sources_train[m], task.noises_train[m]
        same = sources[source.tobytes()]
        i = same[np.flatnonzero(plain.snr_db_train[same] == task.snr_db_train[m])[0]]
        assert snr(source, noise) == pytest.approx(task.snr_db_train[m], abs=1e-4)
        np.testing.assert_array_equal(task.mixtures_train[m], source + noise)
        label = f"synthetic-{kinds[j % 3]}"
        assert task.speaker_noise_train[m].tolist() == [plain.speakers_train[i], label]
        assert np.all(task.noise_types_train[m] == label)
        assert np.all(task.noise_ids_train[m] == -1)
        assert task.groups_train[m] == plain.groups_train[i]
        assert task.utterances_train[m] == plain.utterances_train[i]
        # Not a copy of any recorded noise.
        assert not any(
            np.allclose(noise, x) for x in plain.noises_train if len(x) == len(noise)
        )
    assert set(kinds) <= {t.split("-")[-1] for t in task.noise_groups_train}
    assert f"{k} more mixtures with synthetic noise" in task.DESCR
    assert f"Train: {n} mixtures" in task.DESCR
    again = make_separation_task([a, b], synthetic_noise=0.5, **options, **kwargs)
    _assert_lists_equal(again.noises_train, task.noises_train)


def test_synthetic_noise_zero_and_max_abs(two_corpora):
    a, b = two_corpora
    kwargs = dict(protocol="open", test_size=0.3, random_state=1)
    plain = make_separation_task([a, b], **kwargs)
    none = make_separation_task([a, b], synthetic_noise=0.0, **kwargs)
    _assert_lists_equal(none.mixtures_train, plain.mixtures_train)
    assert none.DESCR == plain.DESCR
    loud = make_separation_task(
        [a, b], synthetic_noise=1.0, snr_db=-10.0, max_abs=0.25, **kwargs
    )
    for m, s, z in zip(
        loud.mixtures_train, loud.sources_train, loud.noises_train, strict=True
    ):
        assert np.max(np.abs(m)) < 0.25
        assert snr(s, z) == pytest.approx(-10.0, abs=1e-3)
    with pytest.raises(ValueError, match="'synthetic_noise' parameter"):
        make_separation_task([a, b], synthetic_noise=-0.1)
