"""tailwatch.identity."""
