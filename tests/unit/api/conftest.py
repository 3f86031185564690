"""API test set-up: every test starts and ends with an empty registry of shared rate budgets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from qamera_desktop.api import forget_shared_budgets


@pytest.fixture(autouse=True)
def _fresh_shared_budgets() -> Iterator[None]:
    forget_shared_budgets()
    yield
    forget_shared_budgets()
