"""Maintainer script: rebuild the vendored demo data from the development corpus.

Not part of the package. Run from the repository root::

    python tools/make_demo_data.py ../shared/corpus [OUT]

It copies a seeded subset of the corpus's permissively licensed files (never
GPL) into OUT (default ``skblsh/datasets/data/``; give another folder to
compare a rebuild with the vendored files), keeping the samples bit-exact
(16-bit FLAC), crops each noise clip to its most stationary excerpt, and writes
``manifest.csv`` (the corpus layout plus a ``copyright`` column) and
``ATTRIBUTION.md`` (per-file credits, as CC-BY and CC-BY-SA require).
"""

import csv
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

SPEAKERS = ("en_f_allison", "fr_f_june", "it_m_carlo")
N_UTTERANCES = 12
MIN_S, MAX_S = 1.5, 4.0
# Two clips per noise type; distinct source recordings where the corpus has
# them, otherwise distinct parts of one recording.
NOISE = {
    "birds": ["supertuxkart_exotic_birds_00", "supertuxkart_exotic_birds_2_00"],
    "fire": ["minetest_fire_large_00", "0ad_sp_11_00"],
    "jungle": ["megaglest_day_00", "megaglest_day_01"],
    "rain": ["0ad_rain_11_00", "0ad_rain_12_00"],
    "stream": ["0ad_river_fast_21_00", "supertuxkart_river_loop_00"],
    "wind": ["0ad_wind_11_01", "0ad_wind_11_03"],
}
NOISE_S = 6.0
ALLOWED = ("CC0-1.0", "CC-BY-3.0", "CC-BY-SA-3.0")
COPYRIGHT = {
    "0ad-data": "2010 Wildfire Games",
    "asterisk-core-sounds-en-g722": "2003-2010 Allison Smith",
    "asterisk-core-sounds-fr-g722": "2006-2008 June Wallack",
    "asterisk-core-sounds-it-g722": "2012 Carlo Flora",
    "megaglest-data": "2001-2008 The Glest Team and MegaGlest contributors",
    "minetest-data": (
        "2010-2016 celeron55 (Perttu Ahola), Kahrl, BlockMen, PilzAdam, "
        "paramat and other Minetest contributors"
    ),
    "supertuxkart_exotic_birds": '2013 James "swiftoid" Swift',
    "supertuxkart_river_loop": "2012 Adam Newns (vennaudio.com)",
}


PACKAGES = {
    "0ad-data": ("0.0.26-1", "0 A.D. by Wildfire Games, https://play0ad.com"),
    "asterisk-core-sounds-en-g722": (
        "1.6.1-1",
        "Asterisk core sounds, voice of Allison Smith",
    ),
    "asterisk-core-sounds-fr-g722": (
        "1.6.1-1",
        "Asterisk core sounds, voice of June Wallack",
    ),
    "asterisk-core-sounds-it-g722": (
        "1.6.1-1",
        "Asterisk core sounds, voice of Carlo Flora",
    ),
    "megaglest-data": ("3.13.0-3", "MegaGlest, https://megaglest.org"),
    "minetest-data": (
        "5.6.1+dfsg+~1.9.0mt8+dfsg-2",
        "Minetest Game, https://www.minetest.net",
    ),
    "supertuxkart-data": ("1.4+dfsg-2", "SuperTuxKart, https://supertuxkart.net"),
}
LICENSES = {
    "CC0-1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "CC-BY-3.0": "https://creativecommons.org/licenses/by/3.0/",
    "CC-BY-SA-3.0": "https://creativecommons.org/licenses/by-sa/3.0/",
}
HEADER = """\
# Demo data: attribution and licenses

The audio files in this folder are **not** covered by the BSD-3-Clause license
of skblsh. Each keeps the license of its source, listed per file below:
CC0-1.0, CC-BY-3.0 or CC-BY-SA-3.0. No GPL-licensed material is included.
Redistributing these files requires keeping this file with them; files derived
from CC-BY-SA-3.0 sources (and any audio you derive from them) must be shared
under CC-BY-SA-3.0.

All files were taken from Debian 12 (bookworm) packages and **modified**:
decoded (G.722 or Ogg Vorbis), down-mixed to mono, resampled to 16 kHz,
silence-trimmed, peak-normalised to -1 dBFS and re-encoded as 16-bit FLAC.
Noise clips are in addition cut to an excerpt of at most 6 s (noise files of
one type come from different recordings, or from disjoint parts of one).

## Sources

| Debian package | version | work |
|---|---|---|
{packages}

## Licenses

{licenses}

## Files

| file | source package | file in the package | license | copyright |
|---|---|---|---|---|
{files}
"""


def _write_attribution(out, manifest):
    packages = "\n".join(
        f"| {name} | {version} | {work} |"
        for name, (version, work) in sorted(PACKAGES.items())
        if any(m["source_package"] == name for m in manifest)
    )
    licenses = "\n".join(f"- {name}: {url}" for name, url in LICENSES.items())
    files = "\n".join(
        f"| `{m['path']}` | {m['source_package']} | `{m['source_file']}` | "
        f"{m['license']} | {m['copyright']} |"
        for m in manifest
    )
    text = HEADER.format(packages=packages, licenses=licenses, files=files)
    (out / "ATTRIBUTION.md").write_text(text)


def _stationary_excerpt(y, sr, seconds):
    """Start of the excerpt whose quietest 100-ms frames are loudest."""
    n = int(seconds * sr)
    if y.shape[0] <= n:
        return 0
    hop = sr // 10
    frames = y[: y.shape[0] // hop * hop].astype(np.float64).reshape(-1, hop)
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    width = n // hop
    scores = [np.percentile(db[k : k + width], 10) for k in range(len(db) - width + 1)]
    return int(np.argmax(scores)) * hop


def _copyright(row):
    if row["source_package"] == "supertuxkart-data":
        stem = Path(row["path"]).stem
        key = next(k for k in COPYRIGHT if stem.startswith(k))
        return COPYRIGHT[key]
    return COPYRIGHT[row["source_package"]]


DATA = Path(__file__).resolve().parents[1] / "skblsh" / "datasets" / "data"


def main(corpus, out=DATA):
    corpus = Path(corpus)
    out = Path(out)
    rows = list(csv.DictReader(open(corpus / "manifest.csv", newline="")))
    rng = np.random.default_rng(2020)
    selected = []
    for speaker in SPEAKERS:
        pool = sorted(
            (
                r
                for r in rows
                if r["group"] == speaker and MIN_S <= float(r["duration_s"]) <= MAX_S
            ),
            key=lambda r: r["path"],
        )
        for k in sorted(rng.choice(len(pool), N_UTTERANCES, replace=False)):
            selected.append((pool[k], f"speech/{speaker}/{Path(pool[k]['path']).name}"))
    by_stem = {Path(r["path"]).stem: r for r in rows if r["kind"] == "noise"}
    for group, stems in NOISE.items():
        for i, stem in enumerate(stems, start=1):
            selected.append((by_stem[stem], f"noise/{group}_{i}.flac"))

    manifest = []
    for row, rel in selected:
        license_ = row["license"].split(" (")[0]
        if license_ not in ALLOWED:
            raise SystemExit(f"refusing to vendor {row['path']} ({row['license']})")
        y, sr = sf.read(corpus / row["path"], dtype="int16")
        if row["kind"] == "noise":
            start = _stationary_excerpt(y, sr, NOISE_S)
            y = y[start : start + int(NOISE_S * sr)]
            print(f"{rel}: excerpt {start / sr:.2f}-{(start + len(y)) / sr:.2f} s")
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        sf.write(dest, y, sr, format="FLAC", subtype="PCM_16")
        manifest.append(
            {
                "path": rel,
                "kind": row["kind"],
                "group": row["group"],
                "duration_s": f"{len(y) / sr:.3f}",
                "source_package": row["source_package"],
                "source_file": row["source_file"],
                "license": license_,
                "copyright": _copyright(row),
            }
        )
    with open(out / "manifest.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(manifest[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(manifest)
    _write_attribution(out, manifest)


if __name__ == "__main__":
    main(*(sys.argv[1:] or ["../shared/corpus"]))
