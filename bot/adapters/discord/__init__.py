"""The Discord adapter (discord.py 2): slash commands, persistent buttons, ephemeral reveals."""

from bot.adapters.discord.adapter import DiscordAdapter, DiscordStartError

__all__ = ["DiscordAdapter", "DiscordStartError"]
