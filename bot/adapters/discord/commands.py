"""The slash commands: names, options, zh-CN localizations, and the time-zone autocomplete.

Each command only gathers its options and hands them on as the argument tuple the console would
pass; what they mean is the core's business.
"""

from __future__ import annotations

import functools
import zoneinfo
from typing import Any, Protocol

import discord
from discord import app_commands
from discord.app_commands import AppCommandChannel, Choice, Range, Transform, locale_str

from bot.core.i18n import t

MAX_SUGGESTIONS = 25  # Discord shows at most 25 autocomplete choices
POPULAR_ZONES = ("Asia/Shanghai", "UTC", "Asia/Tokyo", "Asia/Singapore", "Europe/London",
                 "Europe/Berlin", "America/New_York", "America/Los_Angeles")
POSTABLE = (discord.ChannelType.text, discord.ChannelType.news)
ZH_LOCALES = (discord.Locale.chinese, discord.Locale.taiwan_chinese)


class CommandRunner(Protocol):
    """Receives every slash command: the adapter implements it."""

    async def run_command(self, interaction: discord.Interaction[Any], name: str,
                          args: tuple[str, ...],
                          channel: AppCommandChannel | None = None) -> None: ...

    async def refuse(self, interaction: discord.Interaction[Any], key: str) -> None:
        """Answer with the catalog sentence `key`, only to the user, without asking the core."""
        ...


def text(key: str) -> locale_str:
    """A string Discord shows: English by default, the catalog's Chinese for zh locales."""
    return locale_str(t("en", key), key=key)


class CatalogTranslator(app_commands.Translator):
    """Feeds the i18n catalog's Chinese to Discord for zh-CN and zh-TW users."""

    async def translate(self, string: locale_str, locale: discord.Locale,
                        context: app_commands.TranslationContextTypes) -> str | None:
        key = string.extras.get("key")
        if not key or locale not in ZH_LOCALES:
            return None
        return t("zh", key)


class TextChannelOption(app_commands.Transformer):
    """A channel option limited to channels the bot can post questions in.

    Hands back the interaction's resolved channel as is: it carries the invoking member's
    permissions in that channel, which is what the admin check needs.
    """

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return list(POSTABLE)

    async def transform(self, interaction: discord.Interaction[Any],
                        value: Any, /) -> AppCommandChannel | None:
        if isinstance(value, AppCommandChannel) and value.type in POSTABLE:
            return value
        return None  # the command answers with a clear message instead of failing


@functools.cache
def _all_zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def suggest_zones(current: str, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """IANA names matching what was typed: prefix matches of the city or the whole name first,
    then names containing it; popular zones when nothing is typed yet."""
    needle = current.strip().lower().replace(" ", "_")[:64]
    if not needle:
        return list(POPULAR_ZONES[:limit])
    first: list[str] = []
    rest: list[str] = []
    for zone in _all_zones():
        name = zone.lower()
        if name.startswith(needle) or name.rsplit("/", 1)[-1].startswith(needle):
            first.append(zone)
        elif needle in name:
            rest.append(zone)
    return (first + rest)[:limit]


async def zone_autocomplete(interaction: discord.Interaction[Any],
                            current: str) -> list[Choice[str]]:
    return [Choice(name=zone, value=zone) for zone in suggest_zones(current)]


AnyCommand = app_commands.Command[Any, Any, Any]


def _everywhere(command: AnyCommand) -> AnyCommand:
    """Usable in servers and in DMs with the bot; installed to servers only."""
    command = app_commands.allowed_contexts(guilds=True, dms=True, private_channels=False)(
        command)
    return app_commands.allowed_installs(guilds=True, users=False)(command)


def build_commands(runner: CommandRunner) -> list[AnyCommand]:
    """Every slash command, wired to `runner`."""

    @app_commands.command(name=text("discord_cmd_subscribe"),
                          description=text("discord_desc_subscribe"))
    @app_commands.rename(channel=text("discord_opt_channel"), time=text("discord_opt_time"),
                         timezone=text("discord_opt_timezone"))
    @app_commands.describe(channel=text("discord_desc_channel"), time=text("discord_desc_time"),
                           timezone=text("discord_desc_timezone"))
    @app_commands.autocomplete(timezone=zone_autocomplete)
    # Discord hides the command from members without this permission (server admins can
    # change that); the runtime check also accepts Manage Server.
    @app_commands.default_permissions(manage_channels=True)
    async def subscribe(
        interaction: discord.Interaction[Any],
        channel: Transform[AppCommandChannel | None, TextChannelOption] = None,
        time: Range[str, 1, 16] | None = None,
        timezone: Range[str, 1, 64] | None = None,
    ) -> None:
        if channel is None and _picked_a_channel(interaction):
            await runner.refuse(interaction, "discord_text_channels_only")
            return
        args = tuple(a for a in (time, timezone) if a)
        await runner.run_command(interaction, "subscribe", args, channel)

    @app_commands.command(name=text("discord_cmd_unsubscribe"),
                          description=text("discord_desc_unsubscribe"))
    @app_commands.default_permissions(manage_channels=True)
    async def unsubscribe(interaction: discord.Interaction[Any]) -> None:
        await runner.run_command(interaction, "unsubscribe", ())

    @app_commands.command(name=text("discord_cmd_today"), description=text("discord_desc_today"))
    async def today(interaction: discord.Interaction[Any]) -> None:
        await runner.run_command(interaction, "today", ())

    @app_commands.command(name=text("discord_cmd_streak"),
                          description=text("discord_desc_streak"))
    async def streak(interaction: discord.Interaction[Any]) -> None:
        await runner.run_command(interaction, "streak", ())

    @app_commands.command(name=text("discord_cmd_top"), description=text("discord_desc_top"))
    @app_commands.rename(me=text("discord_opt_board"))
    @app_commands.describe(me=text("discord_desc_board"))
    @app_commands.choices(me=[Choice(name=text("discord_choice_hide"), value="hide"),
                              Choice(name=text("discord_choice_show"), value="show")])
    async def top(interaction: discord.Interaction[Any], me: Choice[str] | None = None) -> None:
        await runner.run_command(interaction, "top", (me.value,) if me else ())

    @app_commands.command(name=text("discord_cmd_stats"),
                          description=text("discord_desc_stats"))
    @app_commands.rename(view=text("discord_opt_view"))
    @app_commands.describe(view=text("discord_desc_view"))
    @app_commands.choices(view=[Choice(name=text("discord_choice_year"), value="year"),
                                Choice(name=text("discord_choice_group"), value="group")])
    async def stats(interaction: discord.Interaction[Any],
                    view: Choice[str] | None = None) -> None:
        await runner.run_command(interaction, "stats", (view.value,) if view else ())

    @app_commands.command(name=text("discord_cmd_lang"), description=text("discord_desc_lang"))
    @app_commands.rename(language=text("discord_opt_language"))
    @app_commands.describe(language=text("discord_desc_language"))
    @app_commands.choices(language=[Choice(name=text("discord_choice_zh"), value="zh"),
                                    Choice(name=text("discord_choice_en"), value="en")])
    @app_commands.default_permissions(manage_channels=True)
    async def lang(interaction: discord.Interaction[Any], language: Choice[str]) -> None:
        await runner.run_command(interaction, "lang", (language.value,))

    @app_commands.command(name=text("discord_cmd_pack"), description=text("discord_desc_pack"))
    @app_commands.rename(choice=text("discord_opt_choice"))
    @app_commands.describe(choice=text("discord_desc_pack_choice"))
    async def pack(interaction: discord.Interaction[Any],
                   choice: Range[str, 1, 200] | None = None) -> None:
        await runner.run_command(interaction, "pack", tuple((choice or "").split()))

    @app_commands.command(name=text("discord_cmd_tags"), description=text("discord_desc_tags"))
    @app_commands.rename(choice=text("discord_opt_choice"))
    @app_commands.describe(choice=text("discord_desc_tags_choice"))
    async def tags(interaction: discord.Interaction[Any],
                   choice: Range[str, 1, 200] | None = None) -> None:
        await runner.run_command(interaction, "tags", tuple((choice or "").split()))

    @app_commands.command(name=text("discord_cmd_answer"),
                          description=text("discord_desc_answer"))
    @app_commands.rename(setting=text("discord_opt_setting"))
    @app_commands.describe(setting=text("discord_desc_answer_setting"))
    @app_commands.default_permissions(manage_channels=True)
    async def answer(interaction: discord.Interaction[Any],
                     setting: Range[str, 1, 16] | None = None) -> None:
        await runner.run_command(interaction, "answer", (setting,) if setting else ())

    @app_commands.command(name=text("discord_cmd_digest"),
                          description=text("discord_desc_digest"))
    @app_commands.rename(setting=text("discord_opt_setting"))
    @app_commands.describe(setting=text("discord_desc_digest_setting"))
    @app_commands.choices(setting=[Choice(name="on", value="on"), Choice(name="off", value="off")])
    @app_commands.default_permissions(manage_channels=True)
    async def digest(interaction: discord.Interaction[Any],
                     setting: Choice[str] | None = None) -> None:
        await runner.run_command(interaction, "digest", (setting.value,) if setting else ())

    @app_commands.command(name=text("discord_cmd_export"),
                          description=text("discord_desc_export"))
    async def export(interaction: discord.Interaction[Any]) -> None:
        await runner.run_command(interaction, "export", ())

    @app_commands.command(name=text("discord_cmd_forgetme"),
                          description=text("discord_desc_forgetme"))
    async def forgetme(interaction: discord.Interaction[Any]) -> None:
        await runner.run_command(interaction, "forgetme", ())

    @app_commands.command(name=text("discord_cmd_help"), description=text("discord_desc_help"))
    async def help_(interaction: discord.Interaction[Any]) -> None:
        await runner.run_command(interaction, "help", ())

    return [_everywhere(c) for c in (subscribe, unsubscribe, today, streak, top, stats, lang,
                                     pack, tags, answer, digest, export, forgetme, help_,
                                     *review_commands(runner))]


def review_commands(runner: CommandRunner) -> list[AnyCommand]:
    """/review, /tz, /remind: the user's own; in a server their answers are ephemeral."""

    @app_commands.command(name=text("discord_cmd_review"),
                          description=text("discord_desc_review"))
    async def review(interaction: discord.Interaction[Any]) -> None:
        await runner.run_command(interaction, "review", ())

    @app_commands.command(name=text("discord_cmd_tz"), description=text("discord_desc_tz"))
    @app_commands.rename(timezone=text("discord_opt_timezone"))
    @app_commands.describe(timezone=text("discord_desc_timezone"))
    @app_commands.autocomplete(timezone=zone_autocomplete)
    async def tz(interaction: discord.Interaction[Any],
                 timezone: Range[str, 1, 64] | None = None) -> None:
        await runner.run_command(interaction, "tz", (timezone,) if timezone else ())

    @app_commands.command(name=text("discord_cmd_remind"),
                          description=text("discord_desc_remind"))
    @app_commands.rename(time=text("discord_opt_time"))
    @app_commands.describe(time=text("discord_desc_remind_time"))
    async def remind(interaction: discord.Interaction[Any],
                     time: Range[str, 1, 16] | None = None) -> None:
        await runner.run_command(interaction, "remind", (time,) if time else ())

    return [review, tz, remind]


def _picked_a_channel(interaction: discord.Interaction[Any]) -> bool:
    """True when the user gave the channel option but it was not a text channel."""
    options = (interaction.data or {}).get("options", [])
    return any(isinstance(o, dict) and o.get("name") == "channel" for o in options)
