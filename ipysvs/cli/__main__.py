"""``python -m ipysvs.cli``: the ``ipysvs`` command."""

import sys

from . import main

sys.exit(main())
