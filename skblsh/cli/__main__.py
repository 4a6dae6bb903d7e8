"""``python -m skblsh.cli``: the ``skblsh`` command."""

import sys

from . import main

sys.exit(main())
