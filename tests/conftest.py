"""Test session wiring: each area keeps its fixtures in its own module under tests/fixtures."""

import importlib.util

pytest_plugins = [
    name
    for name in (
        "tests.fixtures.mariadb",
        "tests.fixtures.sandbox",
        "tests.fixtures.engine",
        "tests.fixtures.tui",
    )
    if importlib.util.find_spec(name) is not None
]
