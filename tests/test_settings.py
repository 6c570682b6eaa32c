"""Settings: TOML file under environment variables, one clear line per bad setting, no secrets."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest

from bot.logs import RedactingFormatter, setup_logging
from bot.settings import ConfigError, load_settings

TOKEN = "123456789:AAE-very-secret-token-value"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("STUDYBOT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no config/studybot.toml here


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_defaults_are_sqlite_under_data_and_the_shipped_content() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///data/studybot.db"
    assert settings.content == Path("content")
    assert settings.telegram_token is None


def test_the_toml_file_is_read_and_the_environment_wins_over_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path, 'default_timezone = "Europe/Berlin"\nlanguage = "en"\n'
                                  'rollover_hour = 3\n')
    monkeypatch.setenv("STUDYBOT_CONFIG", str(path))
    monkeypatch.setenv("STUDYBOT_ROLLOVER_HOUR", "5")
    settings = load_settings()
    assert (settings.default_timezone, settings.language, settings.rollover_hour) == (
        "Europe/Berlin", "en", 5)


def test_config_studybot_toml_is_used_when_present(tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "studybot.toml").write_text('language = "en"\n', encoding="utf-8")
    assert load_settings().language == "en"


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("STUDYBOT_DEFAULT_TIMEZONE", "Mars/Base", "unknown time zone 'Mars/Base'"),
        ("STUDYBOT_LANGUAGE", "fr", "STUDYBOT_LANGUAGE"),
        ("STUDYBOT_ROLLOVER_HOUR", "24", "less than or equal to 23"),
        ("STUDYBOT_TICK_SECONDS", "soon", "STUDYBOT_TICK_SECONDS"),
        ("STUDYBOT_DISCORD_SHARDS", "4", "expected IDS/COUNT, e.g. 0-1/4"),
        ("STUDYBOT_DISCORD_SHARDS", "0-4/4", "shard 4 does not exist: ids run from 0 to 3"),
        ("STUDYBOT_DISCORD_SHARDS", "2-1/4", "the range 2-1 runs backwards"),
        ("STUDYBOT_DISCORD_SHARDS", "0,0/2", "a shard id is given twice"),
        ("STUDYBOT_DISCORD_SHARDS", "a/2", "expected shard ids such as 0-1"),
        ("STUDYBOT_DISCORD_SHARDS", "0/0", "expected IDS/COUNT"),
    ],
)
def test_a_bad_setting_is_one_line_that_names_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(name) and fragment in message and "\n" not in message


@pytest.mark.parametrize(("given", "ids", "count"), [
    ("0-1/4", (0, 1), 4), ("3/4", (3,), 4), (" 0, 2-3 / 8 ", (0, 2, 3), 8), ("0/1", (0,), 1),
])
def test_discord_shards_name_the_ids_this_instance_runs_out_of_the_count(
    monkeypatch: pytest.MonkeyPatch, given: str, ids: tuple[int, ...], count: int
) -> None:
    monkeypatch.setenv("STUDYBOT_DISCORD_SHARDS", given)
    plan = load_settings().discord_shard_plan
    assert plan is not None and (plan.ids, plan.count) == (ids, count)


def test_no_discord_shards_means_one_unsharded_connection() -> None:
    assert load_settings().discord_shard_plan is None


def test_a_missing_config_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDYBOT_CONFIG", "/nowhere/bot.toml")
    with pytest.raises(ConfigError, match="STUDYBOT_CONFIG: no such file"):
        load_settings()


def test_a_broken_or_unknown_key_in_the_toml_file_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDYBOT_CONFIG", str(write_config(tmp_path, "language = \n")))
    with pytest.raises(ConfigError, match="STUDYBOT_CONFIG: cannot read"):
        load_settings()
    monkeypatch.setenv("STUDYBOT_CONFIG", str(write_config(tmp_path, 'colour = "blue"\n')))
    with pytest.raises(ConfigError, match="STUDYBOT_COLOUR: unknown setting"):
        load_settings()


def test_a_rejected_token_never_appears_in_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STUDYBOT_CONFIG", str(write_config(
        tmp_path, f'telegram_token = ["{TOKEN}"]\n')))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "STUDYBOT_TELEGRAM_TOKEN" in str(caught.value) and TOKEN not in str(caught.value)


def test_tokens_are_secrets_that_do_not_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDYBOT_TELEGRAM_TOKEN", TOKEN)
    settings = load_settings()
    assert TOKEN not in repr(settings) and TOKEN not in str(settings)
    assert settings.telegram_token is not None
    assert settings.telegram_token.get_secret_value() == TOKEN


def test_log_lines_and_tracebacks_have_the_token_masked() -> None:
    stream = io.StringIO()
    setup_logging("INFO", [TOKEN], stream)
    log = logging.getLogger("studybot.test")
    log.warning("POST https://api.telegram.org/bot%s/sendMessage failed", TOKEN)
    try:
        raise RuntimeError(f"connect to /bot{TOKEN}/getMe refused")
    except RuntimeError:
        log.exception("start-up failed")
    text = stream.getvalue()
    assert TOKEN not in text and text.count("***") >= 2 and "start-up failed" in text
    logging.getLogger().handlers.clear()


def test_short_or_empty_secrets_are_not_masked_everywhere() -> None:
    assert RedactingFormatter(logging.Formatter(), ["", "ab"]).secrets == ()
