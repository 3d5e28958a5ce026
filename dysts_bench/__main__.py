"""``python -m dysts_bench``: the ``dysts-bench`` command line."""

import sys

from .cli import main

sys.exit(main())
