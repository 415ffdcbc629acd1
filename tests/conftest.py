"""The shared fixtures live in tests/support/fixtures.py; loaded here for every test."""
pytest_plugins = ["tests.support.fixtures"]
