"""tailwatch.analysis."""
