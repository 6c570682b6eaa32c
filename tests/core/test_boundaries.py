"""The core stays platform-neutral, and every sentence exists in both languages."""

from __future__ import annotations

import ast
import re

import pytest

from bot.core import i18n
from tests.conftest import REPO

CORE = REPO / "bot" / "core"


@pytest.mark.parametrize("path", sorted(CORE.glob("*.py")), ids=lambda p: p.name)
def test_the_core_never_imports_a_platform_library(path: object) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))  # type: ignore[attr-defined]
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"telegram", "discord", "aiohttp", "httpx", "sqlalchemy", "aiosqlite"}


@pytest.mark.parametrize("key", sorted(i18n.catalog_keys()))
def test_every_catalog_entry_has_chinese_and_english_with_the_same_placeholders(key: str) -> None:
    assert i18n.catalog_languages(key) == {"zh", "en"}
    # A plural form may leave the count out ("the first argument"); together they use them all.
    placeholders = {lang: [set(re.findall(r"{(\w+)}", text))
                           for text in i18n.catalog_forms(key, lang)] for lang in ("zh", "en")}
    every = {lang: set().union(*forms) for lang, forms in placeholders.items()}
    assert every["zh"] == every["en"]
    assert all(form <= every["zh"] for forms in placeholders.values() for form in forms)


def _placeholders(key: str, lang: str) -> set[str]:
    """The names a sentence takes; for one with plural forms, those of every form."""
    text = i18n._CATALOG[key][lang]
    forms = text.values() if isinstance(text, dict) else (text,)
    return {name for form in forms for name in re.findall(r"{(\w+)}", form)}


def test_an_unknown_language_falls_back_to_chinese() -> None:
    assert i18n.t("fr", "help_title") == i18n.t("zh", "help_title")
