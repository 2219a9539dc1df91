"""tailwatch.sources."""
