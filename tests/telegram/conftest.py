"""The real Application against the fake Bot API, over a real store (SQLite and PostgreSQL)
and the real core."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.app import App, build_app
from bot.settings import Settings
from tests.fakes import FakeClock
from tests.telegram.fake_botapi import FakeBotApi

PLAIN_ZH = "**结论：** KV Cache 缓存每层的 K 和 V。\n\n- 省掉重复计算\n- 显存随长度线性增长\n"
PLAIN_EN = "**Short answer:** cache each layer's K and V.\n\n- saves recomputation\n"


@dataclass(frozen=True)
class Q:
    id: str
    title: str = "什么是 KV Cache？"
    answer: str = PLAIN_ZH
    title_en: str = "What is the KV cache?"
    answer_en: str = PLAIN_EN
    tags: tuple[str, ...] = ("inference",)


def write_pack(root: Path, questions: Sequence[Q]) -> Path:
    pack = root / "packs" / "tg"
    pack.mkdir(parents=True, exist_ok=True)
    (pack / "pack.toml").write_text('id = "tg"\ntitle = "Telegram tests"\nlanguage = "zh"\n',
                                    encoding="utf-8")
    for q in questions:
        front = "\n".join([
            "---", f"id: {q.id}", f"title: {_yaml(q.title)}", f"title_en: {_yaml(q.title_en)}",
            f"tags: [{', '.join(q.tags)}]", "difficulty: 2", "source: ours",
            "key_points:", "  - 第一点", "key_points_en:", "  - First point", "---", ""])
        body = f"{q.answer}\n<!-- en -->\n{q.answer_en}\n"
        (pack / f"{q.id}.md").write_text(front + body, encoding="utf-8")
    return root


def _yaml(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Harness:
    app: App
    adapter: TelegramAdapter
    api: FakeBotApi
    clock: FakeClock
    sleeps: list[float] = field(default_factory=list)

    async def push(self) -> Any:
        return await self.app.service.push_due()


HarnessFactory = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def telegram(
    botapi: FakeBotApi, tmp_path: Path, clock: FakeClock, database_url: str
) -> AsyncIterator[HarnessFactory]:
    """Builds the bot on demand (so a test can choose its questions and settings); stops it."""
    made: list[Harness] = []

    async def make(questions: Sequence[Q] = (Q("kv-cache"),), read_timeout: float = 10.0,
                   **overrides: Any) -> Harness:
        content = write_pack(tmp_path / f"content{len(made)}", questions)
        values: dict[str, Any] = {
            "database_url": database_url, "content": content,
            "default_timezone": "Asia/Shanghai", "telegram_token": botapi.token,
            "telegram_api_url": f"{botapi.url}/bot", **overrides}
        settings = Settings(**values)
        app = await build_app(settings, clock)
        harness = Harness(app, None, botapi, clock)  # type: ignore[arg-type]

        async def sleep(seconds: float) -> None:
            harness.sleeps.append(seconds)

        harness.adapter = TelegramAdapter(app.service, settings, sleep=sleep,
                                          read_timeout=read_timeout)
        app.service.register_messenger(harness.adapter)
        await harness.adapter.start()
        made.append(harness)
        return harness

    yield make
    for harness in made:
        await harness.adapter.stop()
        await harness.app.close()

