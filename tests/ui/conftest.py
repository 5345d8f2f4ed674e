"""UI tests: the page shell, error pages, accessibility and translations."""

from __future__ import annotations

import pytest

from tests.ui.babel_support import compile_translations


@pytest.fixture(scope="session", autouse=True)
def compiled_translations() -> None:
    """English pages need ``messages.mo``; build it if ``make`` has not (before any page renders,
    because Flask-Babel caches a language's catalogue for the life of the process)."""
    compile_translations()
