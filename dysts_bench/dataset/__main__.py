"""``python -m dysts_bench.dataset --canonical`` regenerates the shipped dataset."""

import sys

from .cli import main

sys.exit(main())
