"""Every count the catalog prints reads right in English for 0, 1 and 2 ("1 day", "2 days"),
and in Chinese, which has one form."""

from __future__ import annotations

import re

import pytest

from bot.core import i18n
from bot.core.i18n import t

V = {"i": 1, "name": "Ann", "knew": 50, "partly": 0, "not_yet": 50,
     "grade": "knew it", "mark": "·", "id": "core", "title": "Core", "tag": "rag",
     "packs": "core", "tags": "rag", "left": "3 h", "due": "1 card due", "group": "学习群"}

# key → what English says for n = 0, 1, 2 (the part with the count).
EXPECTED: dict[str, tuple[str, str, str]] = {
    "graded": ("Streak: 0 days.", "Streak: 1 day.", "Streak: 2 days."),
    "regraded": ("streak 0 days.", "streak 1 day.", "streak 2 days."),
    "grade_changed": ("streak 0 days.", "streak 1 day.", "streak 2 days."),
    "streak_current": ("0 days", "Current streak: 1 day", "2 days"),
    "streak_longest": ("0 days", "Longest streak: 1 day", "2 days"),
    "streak_total": ("0 days done", "1 day done in total", "2 days done"),
    "streak_freezes": ("Freezes: 0 / 2", "Freezes: 1 / 2", "Freezes: 2 / 2"),
    "streak_frozen": ("0 missed days in this streak were covered by freezes",
                      "1 missed day in this streak was covered by a freeze",
                      "2 missed days in this streak were covered by freezes"),
    "pack_row": ("(0 questions)", "(1 question)", "(2 questions)"),
    "tags_row": ("(0 questions)", "(1 question)", "(2 questions)"),
    "pack_set": ("(0 matching questions)", "(1 matching question)", "(2 matching questions)"),
    "pack_reset": ("(0 matching questions)", "(1 matching question)",
                   "(2 matching questions)"),
    "tags_set": ("(0 questions)", "(1 question)", "(2 questions)"),
    "tags_reset": ("(0 matching questions)", "(1 matching question)",
                   "(2 matching questions)"),
    "only_first": ("first 0 arguments", "Only the first argument was", "first 2 arguments"),
    "n_days": ("0 days", "1 day", "2 days"),
    "n_hours": ("0 h", "1 h", "2 h"),
    "n_minutes": ("0 min", "1 min", "2 min"),
    "review_due": ("0 cards due", "1 card due", "2 cards due"),
    "review_left": ("0 more today", "1 more today", "2 more today"),
    "review_limit": ("reviewed 0 cards today", "reviewed 1 card today",
                     "reviewed 2 cards today"),
    "review_graded": ("Private streak: 0 days.", "Private streak: 1 day.",
                      "Private streak: 2 days."),
    "remind_streak": ("streak of 0 days", "streak of 1 day in", "streak of 2 days"),
    "privacy_grades": ("0 grades", "1 grade", "2 grades"),
    "privacy_reveals": ("0 answers you viewed", "1 answer you viewed", "2 answers you viewed"),
    "privacy_study_days": ("0 study days", "1 study day", "2 study days"),
    "privacy_other": ("0 other records", "1 other record", "2 other records"),
    "privacy_cards": ("0 review cards", "1 review card", "2 review cards"),
    "stats_days": ("0 days", "1 day", "2 days"),
    "stats_grades": ("0 grades", "1 grade", "2 grades"),
    "stats_more_tags": ("0 more tags", "1 more tag", "2 more tags"),
    "stats_group_members": ("active this week: 0", "active this week: 1",
                            "active this week: 2"),
    "digest_row": ("(0 grades)", "(1 grade)", "(2 grades)"),
    "digest_streak": ("Ann 0 days", "Ann 1 day", "Ann 2 days"),
}


def _counting_keys() -> set[str]:
    return {key for key in i18n.catalog_keys() if any(
        "{n}" in form for lang in ("zh", "en") for form in i18n.catalog_forms(key, lang))}


def test_every_message_that_prints_a_count_n_is_checked_here() -> None:
    assert _counting_keys() == set(EXPECTED)


@pytest.mark.parametrize("key", sorted(EXPECTED))
@pytest.mark.parametrize("n", [0, 1, 2])
def test_english_counts_take_the_right_plural_form(key: str, n: int) -> None:
    text = t("en", key, n=n, **V)
    assert EXPECTED[key][n] in text
    assert not re.search(r"\b1 (days|cards|questions|arguments|missed days)\b", text)


@pytest.mark.parametrize("key", sorted(EXPECTED))
@pytest.mark.parametrize("n", [0, 1, 2])
def test_chinese_counts_have_one_form_with_the_number(key: str, n: int) -> None:
    assert str(n) in t("zh", key, n=n, **V)


@pytest.mark.parametrize("n,expected", [(0, "streak 0 days · this week 0 days"),
                                        (1, "streak 1 day · this week 1 day"),
                                        (2, "streak 2 days · this week 2 days")])
def test_a_leaderboard_row_counts_days_in_words(n: int, expected: str) -> None:
    days = t("en", "n_days", n=n)
    assert expected in t("en", "top_row", rank=1, name="Ann", current=days, week=days,
                         total=days)
