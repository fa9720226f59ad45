"""Testing helpers: the pytest plugin and its fixtures."""
