"""Scrapy item pipelines, in order: extract → validate → store (see ITEM_PIPELINES in settings)."""
