"""tailwatch.claims."""
