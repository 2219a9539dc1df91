"""tailwatch.decode."""
