"""Root fixtures: the GitHub test infrastructure's fixtures, available to every test directory."""

pytest_plugins = ["tests.github.fixtures"]
