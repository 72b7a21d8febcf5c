"""Shared test configuration; fixtures live in tests/fixtures/ and are loaded here."""

pytest_plugins = [
    "tests.fixtures.paths",
    "tests.fixtures.databases",
    "tests.fixtures.runtime",
    "tests.fixtures.server",
]
