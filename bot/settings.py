"""Settings: a TOML file (STUDYBOT_CONFIG, else config/studybot.toml if present) under STUDYBOT_*
environment variables, which win. Tokens come in as secrets and are never shown."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.core.schedule import canonical_zone

DEFAULT_CONFIG = Path("config/studybot.toml")


class ConfigError(Exception):
    """A setting that stops start-up; the message names the setting and never holds a secret."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STUDYBOT_", extra="forbid",
                                      validate_default=True)

    database_url: str = "sqlite:///data/studybot.db"
    content: Path = Path("content")
    default_timezone: str = "Asia/Shanghai"
    language: Literal["zh", "en"] = "zh"
    rollover_hour: int = Field(4, ge=0, le=23)
    push_grace_minutes: int = Field(360, ge=0, le=24 * 60)
    tick_seconds: int = Field(20, ge=1, le=3600)
    retention_days: int = Field(90, ge=7, le=100 * 365)
    review_retention: float = Field(0.9, gt=0.5, lt=1.0)  # FSRS desired retention
    review_limit: int = Field(20, ge=1, le=1000)  # review cards per user per study day
    outbox_journal: Path | None = None  # where push marks wait for the database
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    http_listen: str = ""  # host:port of /healthz and /metrics; empty turns them off
    console_files: Path | None = None  # where the console saves pictures; unset: a temp folder

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: str = ""  # public https URL; empty means long polling
    telegram_webhook_listen: str = "127.0.0.1:8443"
    telegram_webhook_secret: SecretStr | None = None
    telegram_rate_limit: float = Field(29.0, ge=0, le=1000)  # messages/s overall; 0: no limit
    discord_token: SecretStr | None = None
    discord_api_url: str = ""
    discord_gateway_url: str = ""
    discord_guild: int | None = None  # sync slash commands to this server only (instant)
    discord_rate_limit: float = Field(48.5, ge=0, le=1000)  # requests/s overall; 0: no limit
    # "0-1/4": this instance runs gateway shards 0 and 1 of 4; empty: one unsharded connection.
    discord_shards: str = ""

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone = canonical_zone(value)
        if zone is None:
            raise ValueError(f"unknown time zone '{value[:64]}' (use an IANA name such as "
                             "Asia/Shanghai or UTC)")
        return zone

    @field_validator("language", "log_level", "log_format", mode="before")
    @classmethod
    def _fold_case(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        value = value.strip()
        return value.upper() if value.upper() in ("DEBUG", "INFO", "WARNING", "ERROR") else (
            value.lower())

    @field_validator("http_listen", "telegram_webhook_listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        value = value.strip()
        if value:
            split_listen(value)
        return value

    @field_validator("outbox_journal", mode="before")
    @classmethod
    def _blank_path(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("discord_shards")
    @classmethod
    def _shards(cls, value: str) -> str:
        value = "".join(value.split())
        if value:
            parse_shards(value)
        return value

    @property
    def discord_shard_plan(self) -> Shards | None:
        """Which gateway shards this instance runs, or None for one unsharded connection."""
        return parse_shards(self.discord_shards) if self.discord_shards else None

    @field_validator("discord_guild", mode="before")
    @classmethod
    def _blank_guild(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_token", "discord_token", "telegram_webhook_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = _config_path()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)


@dataclass(frozen=True)
class Shards:
    """Discord gateway shards run by this instance: `ids` out of `count` in all."""

    ids: tuple[int, ...]
    count: int

    def __str__(self) -> str:
        return f"{','.join(map(str, self.ids))} of {self.count}"


def parse_shards(value: str) -> Shards:
    """`IDS/COUNT`, IDS a list of ids and ranges such as `0-1` or `0,2,5-7`; ValueError with a
    readable reason. Every instance must give the same COUNT and, together, every id once."""
    ids_text, sep, count_text = value.partition("/")
    example = "e.g. 0-1/4 for shards 0 and 1 of 4"
    if not sep or not count_text.isdigit() or int(count_text) < 1:
        raise ValueError(f"expected IDS/COUNT, {example}; got '{value[:64]}'")
    count = int(count_text)
    ids: list[int] = []
    for part in ids_text.split(","):
        first, dash, last = part.partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise ValueError(f"expected shard ids such as 0-1 or 0,2 before '/', {example}; "
                             f"got '{value[:64]}'")
        start, end = int(first), int(last) if dash else int(first)
        if start > end:
            raise ValueError(f"the range {part} runs backwards")
        ids.extend(range(start, end + 1))
    if max(ids) >= count:
        raise ValueError(f"shard {max(ids)} does not exist: ids run from 0 to {count - 1} "
                         f"when COUNT is {count}")
    if len(set(ids)) != len(ids):
        raise ValueError(f"a shard id is given twice in '{value[:64]}'")
    return Shards(tuple(sorted(ids)), count)


def split_listen(value: str) -> tuple[str, int]:
    """`host:port` (IPv6 in brackets) → (host, port); ValueError with a readable reason."""
    host, sep, port = value.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"expected host:port such as 127.0.0.1:8080, got '{value[:64]}'")
    return host, int(port)


def _config_path() -> Path | None:
    named = os.environ.get("STUDYBOT_CONFIG", "").strip()
    if named:
        return Path(named)
    return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    """The settings, or ConfigError with one line naming the first bad setting."""
    path = _config_path()
    if path is not None and not path.is_file():
        raise ConfigError(f"STUDYBOT_CONFIG: no such file: {path}")
    try:
        return Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        name = "STUDYBOT_" + "_".join(str(p) for p in first["loc"]).upper()
        if first["type"] == "extra_forbidden":
            raise ConfigError(f"{name}: unknown setting in {path}") from None
        # The message only: pydantic's own text would echo the rejected value, maybe a token.
        raise ConfigError(f"{name}: {first['msg'].removeprefix('Value error, ')}") from None
    except Exception as error:  # a TOML syntax error in the config file
        raise ConfigError(f"STUDYBOT_CONFIG: cannot read {path}: {error}") from None
