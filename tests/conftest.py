"""Fixtures shared by every test package: where the shared data lives."""
from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_EXTERNAL = (REPO.parent / "shared" / "data" / "external").resolve()


@pytest.fixture(scope="session")
def external() -> Path:
    """../shared/data/external beside the checkout (never copied into the project)."""
    if not SHARED_EXTERNAL.is_dir():
        pytest.fail(f"shared data not found at {SHARED_EXTERNAL}: check out ../shared beside the repo")
    return SHARED_EXTERNAL
