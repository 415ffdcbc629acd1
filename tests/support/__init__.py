"""What the tests share: settings, databases at the newest schema, app builders, fixtures
(``fixtures`` is the pytest plugin the root conftest loads), and test data shorthands."""
