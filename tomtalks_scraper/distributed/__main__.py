"""``python -m tomtalks_scraper.distributed seed URL…``: see ``seed.main``."""

import sys

from tomtalks_scraper.distributed.seed import main

sys.exit(main())
