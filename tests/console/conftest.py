"""What the console's tests share: the app's settings on the test's database."""

from __future__ import annotations

import pytest

from bot.settings import Settings
from tests.conftest import REPO


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, content=REPO / "content",
                    default_timezone="Asia/Shanghai")
