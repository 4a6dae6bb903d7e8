"""``python -m skblsh``: the ``skblsh`` command, as ``python -m skblsh.cli``."""

import sys

from .cli import main

sys.exit(main())
