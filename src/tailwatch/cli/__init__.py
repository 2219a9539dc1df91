"""tailwatch.cli."""
