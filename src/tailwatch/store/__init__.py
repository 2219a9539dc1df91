"""tailwatch.store."""
