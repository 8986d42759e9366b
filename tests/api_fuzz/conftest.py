"""The API fuzz run gets a system of its own (the e2e fixtures, a fresh stack): what it creates,
changes and erases at random must not meet the end-to-end tests' customers."""

from tests.e2e.conftest import fakes, system

__all__ = ["fakes", "system"]
