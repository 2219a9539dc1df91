"""tailwatch.report."""
