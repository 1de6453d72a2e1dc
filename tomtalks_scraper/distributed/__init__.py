"""A shared crawl frontier in Redis (scrapy-redis) so that several workers crawl one archive together.

``scrapy crawl newsletter -s DISTRIBUTED=1 -s REDIS_URL=… -s DATABASE_URL=…`` runs a worker; the
``Distributed`` add-on (``addon.py``, listed in ``ADDONS``) turns the crawl into one only when
``DISTRIBUTED`` is set. ``python -m tomtalks_scraper.distributed seed URL…`` puts start URLs into the
frontier. See docs/scaling.md. The package imports scrapy-redis only when a crawl is distributed,
so the project works without the ``[distributed]`` extra.
"""
