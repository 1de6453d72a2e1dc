"""tomtalks_scraper: archive newsletters into a database you own (Scrapy + trafilatura + SQLAlchemy)."""

__version__ = "0.1.0"
