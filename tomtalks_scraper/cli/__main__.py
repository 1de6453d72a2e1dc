"""``python -m tomtalks_scraper.cli`` is the ``tomtalks`` command."""

import sys

from tomtalks_scraper.cli import main

sys.exit(main())
