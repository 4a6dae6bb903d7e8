"""Atomic file writes: a temporary file in the target folder, then a rename.

A reader (or a crash) never sees a half-written output: either the old file
(or none) or the complete new one.
"""

import contextlib
import os
import secrets
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path, *, suffix=".tmp"):
    """Yield a temporary path beside ``path``; rename it into place on success.

    The temporary file is removed if the body raises (or leaves it behind
    without succeeding), so a failed write leaves nothing. ``suffix`` lets
    writers that choose their format from the extension (matplotlib,
    soundfile) see the right one.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skblsh.utils._atomic import atomic_path
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with atomic_path(Path(tmp) / "a.txt") as part:
    ...         _ = part.write_text("done")
    ...     print(sorted(p.name for p in Path(tmp).iterdir()))
    ['a.txt']
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{suffix}")
    # Created here with os.open rather than mkstemp: mkstemp's 0600 mode would
    # survive the rename; 0666 under the umask is what a plain open() gives.
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
