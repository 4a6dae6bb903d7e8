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
