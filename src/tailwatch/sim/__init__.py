"""tailwatch.sim."""
