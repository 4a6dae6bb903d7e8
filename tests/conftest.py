"""Shared fixtures: the real corpus beside the project, when present."""

import os
from pathlib import Path

import pytest

CORPUS = Path(
    os.environ.get(
        "SKBLSH_CORPUS",
        Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus",
    )
).resolve()


@pytest.fixture(scope="session")
def corpus_path():
    """Path of the shared development corpus, or skip when it is absent."""
    if not (CORPUS / "manifest.csv").is_file():
        pytest.skip(f"corpus not found at {CORPUS} (set SKBLSH_CORPUS)")
    return CORPUS


# Property tests draw the same examples on every run, so CI can never fail on
# an example nobody can reproduce (switch profiles locally to explore more).
try:
    from hypothesis import settings
except ImportError:  # pragma: no cover
    pass
else:
    settings.register_profile("skblsh", derandomize=True, deadline=None)
    settings.load_profile("skblsh")
