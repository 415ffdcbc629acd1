"""The shared fixtures, loaded here for every test: tests/support/fixtures.py (databases,
apps), the live HubSpot emulator, and the player sites of the browser tests. A test module
asks for a fixture by name and never imports it."""
pytest_plugins = ["tests.support.fixtures", "tests.hubspot_emulator.testing", "tests.support.player_sites"]
