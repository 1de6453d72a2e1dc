"""Finding issues: feeds, sitemaps and HTML listings, as pure functions the spiders call."""
