"""The utterance-level separator: analysis, frame-level estimator,
post-processing and synthesis, block by block."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..features import SpectralFeatures
from ..metrics import sdr_scorer
from ..stft import stft_frames
from ..utils._sklearn import HasMethods, Interval, StrOptions, _fit_context
from ..utils._validation import check_audio, check_audio_list, check_sample_rate
from ._blocks import Block, overlap_add, plan_blocks
from ._crossfit import check_groups, fit_refiner
from ._frames import ANALYSIS_PARAMS, FrameAnalysis, check_lists
from ._pipeline import make_separator_pipeline, split_last_step
from ._postprocess import postprocess_masks
from ._refine import (
    MARGIN,
    check_mask_bias,
    noise_statistics,
    recording_statistics,
)

__all__ = ["MaskingSeparator"]


class MaskingSeparator(BaseEstimator):
    """Separate a source by masking the mixture STFT with predicted masks.

    The separator owns the signal processing and delegates the mapping
    "frames -> masks" to a frame-level regressor. Its stages, each applied
    to one recording at a time (never across recordings):

    1. **analysis**: magnitude STFT frames, divided by the recording's level
       (``level``), each stacked with ``context`` neighbours on each side;
    2. **estimator**: ``estimator.predict`` maps those rows to masks (in
       ``fit``, the estimator is fitted on them and their ideal masks,
       ``target``, after optional subsampling, ``dictionary_fraction``);
    3. **refinement** (``refine``): a small per-bin network, trained on
       cross-fitted training predictions, turns the estimator's masks and
       each bin's SNR against the recording's noise floor into the
       probability that speech dominates the bin;
    4. **post-processing**: masks clipped to [0, 1], replaced by their
       median over ``2 * mask_median + 1`` frames, averaged over
       ``2 * mask_smoothing + 1`` frames, raised to ``mask_exponent`` and
       floored at ``mask_floor``;
    5. **synthesis**: the mask times the complex STFT, inverted to a
       waveform of the input's exact length and dtype.

    Prediction works through the mixtures in blocks of about ``block_frames``
    frames (each block computes the STFT frames it needs, with margins for
    the context, the smoothing and the overlap-add), so memory beyond the
    input and output waveforms stays bounded however long the recording;
    frames of consecutive short mixtures share one estimator call. The
    result equals the one-shot computation to float rounding. This assumes,
    like any frame-level regressor should, that ``estimator.predict`` treats
    rows independently.

    Parameters
    ----------
    estimator : estimator object, default=None
        Frame-level regressor with ``fit(X, Y)`` and ``predict(X)``. None
        means :func:`make_separator_pipeline` ``(64, 30)`` (spectral
        features, ``BoostedLSH(64)``, ``HammingKNeighborsRegressor(30)``)
        built for this separator's ``sr``, ``context`` and ``level``
        (features L2-normalised only when ``level`` is None) and seeded with
        its ``random_state``; nested parameters then read
        ``estimator__hash__n_bits`` and ``estimator__knn__n_neighbors``.
        (The paper's pipeline is ``make_separator_pipeline(64, 10)`` with
        ``level=None``, ``mask_median=0`` and ``mask_smoothing=0``.)
    n_fft : int, default=1024
        STFT window and FFT length.
    hop_length : int, default=256
        STFT hop.
    sr : int, default=16000
        Sample rate the separator works at; ``fit``/``predict`` reject
        another ``sr`` rather than resampling silently.
    level : {"recording", "running"} or None, default="recording"
        Level normalisation of the magnitude frames. ``"recording"`` divides
        every frame by the recording's RMS level (the quadratic mean of its
        frames' windowed RMS levels):
        each frame keeps its level relative to its recording (a loud speech
        frame and a quiet noise frame stay distinguishable) and the output
        is invariant to the input's overall gain,
        ``predict([g * x]) == g * predict([x])``. ``"running"`` divides by a
        causal running level (the mean of the frame levels so far, older
        frames forgotten with time constant ``level_time_constant``), for
        streaming use. None passes raw magnitudes (the paper's pipeline then
        L2-normalises each frame in its features).
    level_time_constant : float, default=2.0
        Time constant of ``level="running"``, in seconds.
    context : int, default=0
        Neighbouring frames stacked on each side of every frame (within its
        recording); the mask is still predicted for the centre frame.
    target : {"ibm", "irm"}, default="ibm"
        Dictionary targets: the ideal binary mask ``|S| > |N|`` (the paper;
        stored packed, 1 bit per bin) or the ideal ratio mask
        ``sqrt(|S|^2 / (|S|^2 + |N|^2))``.
    refine : "auto" or bool, default="auto"
        Learn the refinement stage in ``fit``: the training recordings are
        split into two folds of groups (``groups`` of :meth:`fit`, best each
        pair's speaker and noise type; by default, pairs sharing a clean
        source form a group), each fold is
        masked by a clone of the estimator's last step (the dictionary)
        fitted on the other, and a 14-16-1 network learns the ideal binary
        mask of (at most 3000 frames of) those bins from fourteen features
        of each bin (the kNN mask around it, its SNR against the recording's
        noise floor and noise spectrum, its level).
        ``"auto"`` refines when ``level="recording"`` (its features need
        the recording's noise floor and level) and the training pairs form
        at least two groups. Chosen on validation splits of unseen speakers
        and noise types: +1.9 to +2.2 dB SDR and +0.028 to +0.030 STOI over
        the kNN masks alone (the separator's user guide).
    mask_bias : "auto", float or array-like of shape (n_fft // 2 + 1,), \
            default="auto"
        Added to the refinement stage's log-odds of each bin before the
        post-processing: below 0 removes more noise (higher SDR), above 0
        keeps more speech. ``"auto"`` adds -1 below 100 Hz and -2 from
        4.4 kHz up, the bins outside every band intelligibility (STOI)
        reads, which count for fidelity alone: on the validation splits
        +0.5 / +0.4 / +0.3 dB SDR and +0.04 / +0.06 / +0.07 PESQ-WB at -5 /
        0 / +5 dB input SNR, at equal STOI. A number applies to every bin:
        -0.5 gave +0.9 / +0.6 / +0.2 dB SDR for -0.002 / -0.002 / -0.003
        STOI. Read at prediction, so a fitted separator can change it. It
        needs the refinement stage: without one, only ``"auto"`` is
        accepted (and changes nothing).
    mask_median : int, default=2
        Radius, in frames, of the running median applied to the predicted
        masks before their moving average (2: five frames): it drops the
        isolated frames the network keeps or removes alone. Chosen on the
        validation splits (three fits): +0.17 to +0.20 dB SDR at -5 dB,
        +0.12 to +0.14 dB at 0 dB and +0.05 to +0.06 dB at +5 dB over no
        median, at equal STOI. 0 turns it off.
    mask_smoothing : int, default=2
        Radius, in frames, of the moving average applied to the predicted
        masks (2: five frames, 80 ms at the default hop). Chosen on the
        validation splits over 1 (the default before the refiner): STOI
        +0.0014 to +0.0023 at equal SDR.
    mask_exponent : float, default=1.0
        Exponent applied to the (smoothed) masks: above 1 suppresses more.
    mask_floor : float, default=0.0
        Lower bound of the final masks: some noise is kept everywhere, which
        trades SDR for fewer artefacts.
    dictionary_fraction : float, default=1.0
        Fraction of training frames kept (uniformly at random) as the
        dictionary; the paper uses 0.1 and 0.01.
    block_frames : int, default=2048
        Frames per block in :meth:`predict` and :meth:`predict_mask` (2048
        frames are about 33 s at the default hop and 16 kHz). Smaller blocks
        use less memory; the output does not depend on it.
    random_state : int, RandomState instance or None, default=None
        Seed of the dictionary subsampling, and of the default estimator.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted frame-level regressor (a clone of ``estimator``).
    refiner_ : MaskRefiner or None
        The fitted refinement stage, None when ``refine`` did not apply.
    n_frames_ : int
        Number of dictionary frames the estimator was fitted on.
    n_features_in_ : int
        Number of frequency bins, ``n_fft // 2 + 1``.

    See Also
    --------
    make_frames : The frame-level arrays behind ``fit``.
    skblsh.metrics.sdr_scorer : The scorer used by :meth:`score`.

    Examples
    --------
    >>> import numpy as np
    >>> from skblsh.separation import MaskingSeparator, make_separator_pipeline
    >>> rng = np.random.RandomState(0)
    >>> sources = [np.sin(np.arange(8000) * f) for f in (0.05, 0.1, 0.2)]
    >>> mixtures = [s + 0.5 * rng.randn(8000) for s in sources]
    >>> sep = MaskingSeparator(make_separator_pipeline(16, 3, random_state=0))
    >>> estimates = sep.fit(mixtures, sources).predict(mixtures)
    >>> [len(e) for e in estimates]
    [8000, 8000, 8000]
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"]), None],
        **{k: v for k, v in ANALYSIS_PARAMS.items()},
        "refine": ["boolean", StrOptions({"auto"})],
        "mask_bias": [StrOptions({"auto"}), Real, "array-like"],
        "mask_median": [Interval(Integral, 0, None, closed="left")],
        "mask_smoothing": [Interval(Integral, 0, None, closed="left")],
        "mask_exponent": [Interval(Real, 0, None, closed="neither")],
        "mask_floor": [Interval(Real, 0, 1, closed="left")],
        "dictionary_fraction": [Interval(Real, 0, 1, closed="right")],
        "block_frames": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        n_fft=1024,
        hop_length=256,
        sr=16000,
        level="recording",
        level_time_constant=2.0,
        context=0,
        target="ibm",
        refine="auto",
        mask_bias="auto",
        mask_median=2,
        mask_smoothing=2,
        mask_exponent=1.0,
        mask_floor=0.0,
        dictionary_fraction=1.0,
        block_frames=2048,
        random_state=None,
    ):
        self.estimator = estimator
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.sr = sr
        self.level = level
        self.level_time_constant = level_time_constant
        self.context = context
        self.target = target
        self.refine = refine
        self.mask_bias = mask_bias
        self.mask_median = mask_median
        self.mask_smoothing = mask_smoothing
        self.mask_exponent = mask_exponent
        self.mask_floor = mask_floor
        self.dictionary_fraction = dictionary_fraction
        self.block_frames = block_frames
        self.random_state = random_state

    # ------------------------------------------------------------------
    # fitting

    def _check_sr(self, sr):
        if sr is not None and check_sample_rate(sr) != self.sr:
            raise ValueError(
                f"Expected audio at sr={self.sr} Hz (the separator's rate), got "
                f"sr={sr}. Resample it first (skblsh.datasets.read_audio does)."
            )

    def _analysis(self):
        return FrameAnalysis.of(self)

    def _make_estimator(self):
        if self.estimator is not None:
            return clone(self.estimator)
        # K=30 (not the paper's 10) chosen on validation splits of unseen
        # speakers and noise types, with the level normalisation and the
        # mask smoothing above (docs/user_guide/separator.rst).
        return make_separator_pipeline(
            n_neighbors=30,
            normalize=self.level is None,
            n_stacked=2 * self.context + 1,
            sr=self.sr,
            random_state=self.random_state,
        )

    def _check_estimator(self, estimator):
        """Cross-parameter rules between the separator and its estimator."""
        steps = estimator.steps if isinstance(estimator, Pipeline) else []
        for name, step in steps:
            if isinstance(step, SpectralFeatures):
                if step.n_stacked != 2 * self.context + 1:
                    raise ValueError(
                        f"Expected the estimator's SpectralFeatures step "
                        f"'{name}' to have n_stacked = 2 * context + 1 = "
                        f"{2 * self.context + 1} (the separator's context="
                        f"{self.context}), got n_stacked={step.n_stacked}."
                    )

    def _subsample(self, X, Y, rng):
        if self.dictionary_fraction < 1.0:
            n_keep = max(1, int(round(self.dictionary_fraction * len(X))))
            keep = np.sort(rng.choice(len(X), size=n_keep, replace=False))
            X, Y = X[keep], Y[keep]
        return X, Y

    def _dictionary(self, mixtures, sources, rng):
        X, Y, _ = self._analysis().dataset(mixtures, sources)
        return self._subsample(X, Y, rng)

    def _check_fit_params(self, sr):
        if self.hop_length >= self.n_fft:
            raise ValueError(
                f"Expected hop_length < n_fft, so that every sample lies inside "
                f"a window and the inverse STFT is exact, got "
                f"hop_length={self.hop_length} and n_fft={self.n_fft}."
            )
        self._check_sr(sr)

    @property
    def _stft(self):
        return dict(n_fft=self.n_fft, hop_length=self.hop_length)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, mixtures, sources, *, sr=None, groups=None):
        """Build the dictionary of frames and masks and fit the estimator.

        Parameters
        ----------
        mixtures : list of ndarray of shape (n_samples_i,)
            Training mixtures.
        sources : list of ndarray of shape (n_samples_i,)
            The clean source of each mixture.
        sr : int, default=None
            Sample rate of the audio, checked against ``self.sr`` if given.
        groups : array-like of shape (n_pairs,) or (n_pairs, 2), default=None
            Group of each training pair for the refiner's cross-fitting: a
            group's pairs are never masked by a dictionary that saw the
            group. None groups pairs sharing a clean source. Two columns,
            each pair's speaker and noise type, hold out both: a fold's
            masks then come from a dictionary that heard neither its
            speakers nor its noise types, as the separator will at test
            time. On validation splits of unseen speakers and noise types
            that gains +0.2 dB SDR and +0.007 STOI over the default
            (:ref:`the separator's user guide <refinement>`). A task of
            :func:`~skblsh.datasets.make_separation_task` has them as
            ``speaker_noise_train``.

        Returns
        -------
        self : object
            Fitted separator.
        """
        self._check_fit_params(sr)
        estimator = self._make_estimator()
        self._check_estimator(estimator)
        self._rng = check_random_state(self.random_state)
        mixtures, sources = check_lists(mixtures, sources, n_fft=self.n_fft)
        X, Y, recording = self._analysis().dataset(mixtures, sources)
        groups = check_groups(groups, sources, refine=self.refine, level=self.level)
        X_dict, Y_dict = self._subsample(X, Y, self._rng)
        self.estimator_ = estimator.fit(X_dict, Y_dict)
        self.n_frames_ = len(X_dict)
        del X_dict, Y_dict
        self.refiner_ = None
        if groups is not None:
            self.refiner_ = fit_refiner(
                self, mixtures, X, Y, recording, groups, self._rng
            )
        self.n_features_in_ = self.n_fft // 2 + 1
        return self

    def partial_fit(self, mixtures, sources, *, sr=None, groups=None):
        """Grow the dictionary with more training pairs, in bounded memory.

        The first call fits like :meth:`fit` (the hasher learns its bits and
        the refiner its weights from that first batch); later calls only
        transform their frames with the fitted steps and append them to the
        last step, which must have ``partial_fit`` (e.g.
        :class:`~skblsh.HammingKNeighborsRegressor`): memory then grows
        with the dictionary (about 73 bytes per frame at 64 bits with
        binary masks), not with the audio seen.

        Parameters
        ----------
        mixtures : list of ndarray of shape (n_samples_i,)
            Training mixtures of this batch.
        sources : list of ndarray of shape (n_samples_i,)
            Their clean sources.
        sr : int, default=None
            Sample rate of the audio, checked against ``self.sr`` if given.
        groups : array-like of shape (n_pairs,) or (n_pairs, 2), default=None
            The first call's ``groups`` of :meth:`fit`; later calls, which
            do not refit the refiner, ignore it.

        Returns
        -------
        self : object
            The grown separator.
        """
        if not hasattr(self, "estimator_"):
            return self.fit(mixtures, sources, sr=sr, groups=groups)
        self._check_sr(sr)
        head, last = split_last_step(self.estimator_)
        if not hasattr(last, "partial_fit"):
            raise TypeError(
                f"Expected an estimator whose last step has partial_fit (such "
                f"as HammingKNeighborsRegressor) to grow the dictionary, got "
                f"{type(last).__name__}."
            )
        X, Y = self._dictionary(mixtures, sources, self._rng)
        last.partial_fit(X if head is None else head.transform(X), Y)
        self.n_frames_ += len(X)
        return self

    # ------------------------------------------------------------------
    # prediction

    def _blocks(self, analysis, index, y):
        """The blocks of one recording, rows computed, in order."""
        n = analysis.n_frames(len(y))
        scales = analysis.scales(y)
        c, r = self.context, self._post_radius()
        floor, level, noise = None, 1.0, None
        refining = self._refiner() is not None
        if refining:
            r += MARGIN
            level = float(scales[0])
            # A recording in one block takes its noise floor and spectrum
            # from that block (in _predict_blocks) rather than a first pass.
            if n > self.block_frames:
                floor, noise = noise_statistics(
                    y,
                    n,
                    lambda M, a, f0, f1: analysis.rows(
                        M, a, a + len(M), scales, n, f0, f1
                    ),
                    self._predict_rows,
                    context=c,
                    **self._stft,
                )
        plan = plan_blocks(n, self.block_frames, radius=r, context=c, **self._stft)
        for f0, f1, g0, m0, m1, a, b in plan:
            Z = stft_frames(y, a, b, **self._stft)
            M = np.abs(Z)
            rows = analysis.rows(M, a, b, scales, n, m0, m1)
            M = M if refining else None
            yield Block(index, n, f0, f1, g0, m0, a, Z, rows, M, floor, level, noise)

    def _masked_blocks(self, mixtures):
        """Yield ``(block, Z, mask)`` for frames ``[g0, f1)`` of every block.

        Blocks of consecutive mixtures share one ``estimator_.predict``: its
        fixed cost (validation, thread start-up of the search) dominates
        short utterances, and rows are independent, so nothing changes.
        """
        analysis = self._analysis()
        bias = self._mask_bias()
        pending, n_rows = [], 0
        for index, y in enumerate(mixtures):
            for block in self._blocks(analysis, index, y):
                pending.append(block)
                n_rows += len(block.rows)
                if n_rows >= self.block_frames:
                    yield from self._predict_blocks(pending, bias)
                    pending, n_rows = [], 0
        if pending:
            yield from self._predict_blocks(pending, bias)

    def _predict_blocks(self, blocks, bias):
        raw = self._predict_rows(np.concatenate([b.rows for b in blocks]))
        start = 0
        for block in blocks:
            stop = start + len(block.rows)
            block_raw, m0 = raw[start:stop], block.m0
            if self._refiner() is not None:
                if block.floor is None:
                    block.floor, block.noise = recording_statistics(
                        block.magnitudes, block_raw
                    )
                block_raw, m0 = self._refined(block, block_raw, bias)
            mask = postprocess_masks(
                block_raw,
                m0,
                block.g0,
                block.f1,
                block.n_total,
                median=self.mask_median,
                smoothing=self.mask_smoothing,
                exponent=self.mask_exponent,
                floor=self.mask_floor,
            )
            start = stop
            yield block, block.Z[block.g0 - block.a : block.f1 - block.a], mask

    def _refiner(self):
        # Separators saved before the refinement stage existed have none.
        return getattr(self, "refiner_", None)

    def _post_radius(self):
        """Frames beyond each side of a block the post-processing reads."""
        return self.mask_median + self.mask_smoothing

    def __setstate__(self, state):
        # Separators saved before the median or the bias existed predict as
        # they did.
        state.setdefault("mask_median", 0)
        state.setdefault("mask_bias", 0.0)
        super().__setstate__(state)

    def _mask_bias(self):
        return check_mask_bias(
            self.mask_bias, self.n_fft // 2 + 1, self.sr, self._refiner() is not None
        )

    def _refined(self, block, raw, bias):
        """Refined masks of the frames the block's post-processing reads."""
        s, n = self._post_radius(), block.n_total
        lo, hi = max(block.g0 - s, 0), min(block.f1 + s, n)
        masks = self.refiner_.predict_masks(
            raw,
            block.m0,
            block.magnitudes,
            block.a,
            lo,
            hi,
            n,
            block.floor,
            block.level,
            block.noise,
            bias,
        )
        return masks, lo

    def _predict_rows(self, rows, estimator=None):
        n_bins = self.n_fft // 2 + 1
        estimator = self.estimator_ if estimator is None else estimator
        mask = np.asarray(estimator.predict(rows))
        if mask.shape != (len(rows), n_bins):
            raise ValueError(
                f"Expected the estimator to predict masks of shape "
                f"{(len(rows), n_bins)}, got {mask.shape}."
            )
        if not np.all(np.isfinite(mask)):
            raise ValueError(
                "Expected the estimator to predict finite masks, got NaN or "
                "infinite values."
            )
        return mask

    def predict_mask(self, mixture):
        """Final mask of one mixture (after post-processing), in [0, 1].

        Parameters
        ----------
        mixture : ndarray of shape (n_samples,)
            Mixture waveform, at least ``n_fft`` samples long.

        Returns
        -------
        mask : ndarray of shape (n_frames, n_fft // 2 + 1)
            The mask :meth:`predict` applies, frames as rows (the frames of
            :func:`~skblsh.stft.stft`).
        """
        check_is_fitted(self)
        mixture = check_audio(mixture, name="mixture", min_samples=self.n_fft)
        out = np.empty((self._analysis().n_frames(len(mixture)), self.n_fft // 2 + 1))
        for block, _, mask in self._masked_blocks([mixture]):
            out[block.f0 : block.f1] = mask[block.f0 - block.g0 :]
        return out

    def predict(self, mixtures, *, sr=None):
        """Denoise mixtures.

        Parameters
        ----------
        mixtures : list of ndarray of shape (n_samples_i,)
            Mono floating-point mixture waveforms, finite, each at least
            ``n_fft`` samples long. Integer PCM raises ``TypeError`` rather
            than being rescaled by a guess: divide int16 samples by 32768 (or
            read files with :func:`skblsh.datasets.read_audio`).
        sr : int, default=None
            Sample rate of the audio, checked against ``self.sr`` if given.

        Returns
        -------
        estimates : list of ndarray of shape (n_samples_i,)
            Estimated sources, each as long as its mixture and of its dtype.
            A silent mixture gives a silent estimate.
        """
        check_is_fitted(self)
        self._check_sr(sr)
        mixtures = check_audio_list(mixtures, name="mixtures", min_samples=self.n_fft)
        outputs = [np.zeros(len(y), dtype=y.dtype) for y in mixtures]
        for block, Z, mask in self._masked_blocks(mixtures):
            overlap_add(block, Z, mask, outputs[block.index], **self._stft)
        return outputs

    def score(self, mixtures, sources):
        """Length-weighted mean BSS Eval SDR (dB) of the estimates.

        Parameters
        ----------
        mixtures : list of ndarray of shape (n_samples_i,)
            Mixture waveforms.
        sources : list of ndarray of shape (n_samples_i,)
            Their clean sources.

        Returns
        -------
        score : float
            Mean SDR weighted by utterance length, as in the paper's tables.
        """
        return sdr_scorer(self, mixtures, sources)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor"
        tags.target_tags.required = True
        tags.input_tags.two_d_array = False
        tags.non_deterministic = False
        return tags
