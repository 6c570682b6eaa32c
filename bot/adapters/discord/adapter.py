"""Discord over discord.py 2: slash commands and persistent buttons in, embeds out.

One client in the application's event loop. Slash commands and button presses become core events;
the core's responses come back as embeds, private ones as ephemeral replies. As the Messenger it
posts the daily questions and turns Discord's errors into the core's delivery errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import re
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.app_commands import AppCommandChannel
from discord.gateway import DiscordWebSocket
from discord.http import Route
from discord.utils import MISSING

from bot.adapters import StartError
from bot.adapters.discord.commands import CatalogTranslator, build_commands
from bot.adapters.discord.render import (
    CUSTOM_ID_TEMPLATE,
    DiscordMessage,
    StudyButton,
    clip,
    render,
)
from bot.adapters.limits import SteadyRate
from bot.core.events import Actor, ButtonPress, Command
from bot.core.i18n import t
from bot.core.messages import OutgoingMessage, Response
from bot.core.models import ChatKind, ChatRef, UserRef
from bot.core.ports import (
    ChatGone,
    DeliveryError,
    MessageGone,
    SendTimedOut,
    TemporaryFailure,
)
from bot.core.study import StudyService
from bot.settings import ConfigError, Settings

log = logging.getLogger(__name__)

PLATFORM = "discord"
THREAD_EXISTS = 160004  # Discord's code for "a thread has already been created for this message"
ADMIN_COMMANDS = frozenset({"subscribe", "unsubscribe", "lang", "pack", "tags", "answer",
                            "digest"})
# The user's own business: in a server their answers are ephemeral (the channel sees nothing).
OWN_COMMANDS = frozenset({"review", "tz", "remind", "export", "forgetme"})
CONTENT_LIMIT = 2000
NO_MENTIONS = discord.AllowedMentions.none()
# What the daily post needs in a channel; the README's invite URL carries this integer.
# Threads: /answer posts the day's answer in a thread on the question.
INVITE_PERMISSIONS = discord.Permissions(view_channel=True, send_messages=True, embed_links=True,
                                         create_public_threads=True,
                                         send_messages_in_threads=True)
_OUR_CUSTOM_ID = re.compile(CUSTOM_ID_TEMPLATE)


class DiscordStartError(StartError):
    """The adapter could not connect; the message names the cause and never holds the token."""


def intents() -> discord.Intents:
    """Guild and channel events only: enough for slash commands, buttons and removals."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    return wanted


class StudyCommandTree(app_commands.CommandTree[Any]):
    async def on_error(self, interaction: discord.Interaction[Any],
                       error: app_commands.AppCommandError, /) -> None:
        # An unknown or outdated command (say, from a sync that has not reached the user yet)
        # gets an answer instead of Discord's "the application did not respond".
        log.warning("Discord: a slash command failed: %s", _describe(error))
        client = self.client
        if isinstance(client, StudyClient) and not interaction.response.is_done():
            await client.adapter.refuse(interaction, "discord_failed")


class StudyClient(discord.Client):
    """discord.py's client with the study commands, buttons and removal notices wired in."""

    def __init__(self, adapter: DiscordAdapter, **options: Any) -> None:
        super().__init__(intents=intents(), **options)
        self.adapter = adapter
        self.tree = StudyCommandTree(self)
        for command in build_commands(adapter):
            self.tree.add_command(command)

    async def setup_hook(self) -> None:
        # Buttons are matched by custom_id pattern, so presses on messages sent before a restart
        # (or by another process) still reach us.
        self.add_dynamic_items(StudyButton)
        await self.tree.set_translator(CatalogTranslator())

    async def study_button_pressed(self, interaction: discord.Interaction[Any],
                                   payload: str) -> None:
        await self.adapter.on_button(interaction, payload)

    async def on_ready(self) -> None:
        self.adapter.gateway_up = True
        self.adapter.ready.set()

    async def on_resumed(self) -> None:
        self.adapter.gateway_up = True

    async def on_disconnect(self) -> None:
        # discord.py reconnects on its own; until it has, /healthz should say we are down.
        self.adapter.gateway_up = False

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        # discord.py hands component interactions to its view store, which drops the ones no
        # view or dynamic item claims without a word: the user would see "This interaction
        # failed". This event sees every interaction, so whatever StudyButton will not get is
        # answered here, and what it will get is left to it (one answer, never two).
        if interaction.type is not discord.InteractionType.component:
            return
        if not reaches_study_button(interaction):
            await self.adapter.on_unknown_component(interaction)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.adapter.guild_removed(guild)

    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self.adapter.channel_removed(channel.id, "channel deleted")

    async def on_thread_delete(self, thread: discord.Thread) -> None:
        await self.adapter.channel_removed(thread.id, "thread deleted")


class ShardedStudyClient(StudyClient, discord.AutoShardedClient):
    """The same client on the gateway shards STUDYBOT_DISCORD_SHARDS names, for bots in more
    servers than one connection may carry: each instance runs its own shards, and Discord sends
    a server's events (commands, presses) only to the shard that owns it. on_ready comes once
    all of this instance's shards are ready; posts go by REST and need no particular shard."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # Discord accepts one IDENTIFY per five seconds (per max_concurrency bucket); discord.py
        # waits that long before each shard but the first, and so do we, by the adapter's pace.
        if not initial:
            await asyncio.sleep(self.adapter.identify_interval)

    # Each shard comes and goes on its own: one shard resuming says nothing of another still
    # down, so the connection is followed shard by shard rather than by the client's events.
    async def on_disconnect(self) -> None:
        pass

    async def on_resumed(self) -> None:
        pass

    async def on_shard_disconnect(self, shard_id: int) -> None:
        if shard_id not in self.adapter.shards_down:
            log.warning("discord shard %d disconnected; reconnecting", shard_id)
        self.adapter.shards_down.add(shard_id)

    async def on_shard_ready(self, shard_id: int) -> None:
        self.adapter.shards_down.discard(shard_id)

    async def on_shard_resumed(self, shard_id: int) -> None:
        self.adapter.shards_down.discard(shard_id)


class DiscordAdapter:
    """The Discord platform: lifecycle, events in, and the Messenger for scheduled posts."""

    platform = PLATFORM
    # Posts sent at once by the push pipeline; the global limiter sets the actual pace.
    concurrency = 32

    def __init__(self, service: StudyService, settings: Settings, *,
                 send_timeout: float = 60.0, ready_timeout: float = 60.0,
                 guild_ready_timeout: float = 2.0, max_ratelimit_timeout: float = 30.0,
                 identify_interval: float = 5.0,
                 throttle: AbstractAsyncContextManager[object] | None = None) -> None:
        self.service = service
        # discord.py follows the per-route buckets but not Discord's global 50 requests/s; a
        # push to many channels stays under it with some headroom.
        rate = settings.discord_rate_limit
        # The global limit is the bot's: several instances of it keep to a share each.
        self.throttle = throttle or (
            SteadyRate(rate, shared_by=lambda: service.push.rate_share(PLATFORM)) if rate > 0
            else contextlib.nullcontext())
        self.settings = settings
        self.send_timeout = send_timeout
        self.ready_timeout = ready_timeout
        # How long discord.py waits for more GUILD_CREATEs before READY counts as done.
        self.guild_ready_timeout = guild_ready_timeout
        # Seconds between the IDENTIFYs of this instance's shards (sharding only).
        self.identify_interval = identify_interval
        # A rate-limit wait longer than this fails the send (retried on a later tick) rather
        # than holding up the push; discord.py allows no less than 30 s.
        self.max_ratelimit_timeout = max_ratelimit_timeout
        self._sends: set[_Send] = set()  # sends under way, for their deadlines
        self.ready = asyncio.Event()
        self.gateway_up = False
        self.shards_down: set[int] = set()  # this instance's shards now disconnected
        self._client: StudyClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._saved_endpoints: tuple[str, yarl.URL] | None = None

    @property
    def client(self) -> StudyClient | None:
        return self._client

    @property
    def connected(self) -> bool:
        client, task = self._client, self._task
        return (client is not None and task is not None and not task.done()
                and client.is_ready() and not client.is_closed() and self.gateway_up
                and not self.shards_down)

    # ----- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in, sync the slash commands, connect the gateway; returns once READY."""
        if self._client is not None:
            raise DiscordStartError("the Discord adapter is already started")
        secret = self.settings.discord_token
        token = secret.get_secret_value().strip() if secret is not None else ""
        if not token:
            raise ConfigError("STUDYBOT_DISCORD_TOKEN: not set (the Discord bot token)")
        _SECRETS.add(token)
        self._point_endpoints()
        self.ready = asyncio.Event()
        options: dict[str, Any] = {
            "guild_ready_timeout": self.guild_ready_timeout,
            "max_ratelimit_timeout": max(30.0, self.max_ratelimit_timeout),
            "http_trace": _request_tracer()}
        plan = self.settings.discord_shard_plan
        client = (StudyClient(self, **options) if plan is None else ShardedStudyClient(
            self, shard_ids=list(plan.ids), shard_count=plan.count, **options))
        self._client = client
        try:
            try:
                await client.login(token)
            except discord.LoginFailure:
                raise DiscordStartError(
                    "Discord refused the token (STUDYBOT_DISCORD_TOKEN)") from None
            except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
                raise DiscordStartError(f"cannot log in to Discord: {_describe(error)}") from None
            await self._sync_commands(client)
            self._task = asyncio.create_task(client.connect(reconnect=True),
                                             name="discord-gateway")
            await self._wait_ready()
        except BaseException:
            await self.stop()
            raise
        user = client.user
        log.info("Discord: connected as %s (%s), %d server(s)%s",
                 user.name if user else "?", user.id if user else "?", len(client.guilds),
                 f" on shards {plan}" if plan is not None else "")

    async def _wait_ready(self) -> None:
        assert self._task is not None
        waiter = asyncio.create_task(self.ready.wait())
        try:
            done, _ = await asyncio.wait({waiter, self._task}, timeout=self.ready_timeout,
                                         return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        if waiter in done and self.ready.is_set():
            return
        if self._task in done:
            error = None if self._task.cancelled() else self._task.exception()
            raise DiscordStartError("the Discord gateway closed before READY: "
                                    f"{_describe(error) if error else 'no reason given'}")
        raise DiscordStartError(f"no READY from the Discord gateway within {self.ready_timeout}s")

    async def _sync_commands(self, client: StudyClient) -> None:
        guild_id = self.settings.discord_guild
        try:
            if guild_id:
                # A development server gets the commands at once; global ones take a while.
                guild = discord.Object(id=guild_id)
                client.tree.copy_global_to(guild=guild)
                synced = await client.tree.sync(guild=guild)
                log.info("Discord: %d slash command(s) synced to server %s", len(synced), guild_id)
            else:
                synced = await client.tree.sync()
                log.info("Discord: %d slash command(s) synced globally", len(synced))
        except discord.Forbidden:
            log.warning("Discord: may not register slash commands%s; invite the bot with the "
                        "applications.commands scope",
                        f" in server {guild_id}" if guild_id else "")
        except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
            # The commands registered last time stay in place; the bot can run without a sync.
            log.warning("Discord: slash command sync failed: %s", _describe(error))

    async def stop(self) -> None:
        """Close the gateway and HTTP session; safe to call twice or after a failed start."""
        client, task = self._client, self._task
        self._client = self._task = None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()
        if task is not None:
            if not task.done():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait({task}, timeout=5)
                task.cancel()
            with contextlib.suppress(BaseException):
                await task
        self._restore_endpoints()

    def _point_endpoints(self) -> None:
        """discord.py reads its REST base and gateway from class attributes: point them at the
        configured overrides, and remember the old values for stop()."""
        self._saved_endpoints = (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
        if self.settings.discord_api_url:
            Route.BASE = self.settings.discord_api_url.rstrip("/")
        if self.settings.discord_gateway_url:
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.settings.discord_gateway_url)

    def _restore_endpoints(self) -> None:
        if self._saved_endpoints is not None:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._saved_endpoints
            self._saved_endpoints = None

    async def probe(self) -> None:
        """Ask Discord's REST API something small; raises when it does not answer."""
        client = self._client
        if client is None or client.is_closed():
            raise TemporaryFailure("Discord is not connected")
        await client.application_info()

    # ----- Messenger --------------------------------------------------------------------------

    async def send(self, chat: ChatRef, message: OutgoingMessage, *, reply_to: str = "") -> str:
        """Post `message` (several Discord messages if it is long); the first one's id. With
        `reply_to`, in a thread on that message (started if need be; the thread of a message
        has the message's id), or in the channel when the message is gone."""
        client = self._client
        if client is None or client.is_closed():
            raise TemporaryFailure("Discord is not connected")
        try:
            channel_id = int(chat.thread_id or chat.chat_id)
        except ValueError:
            raise ChatGone("not a Discord channel id") from None
        channel = client.get_partial_messageable(channel_id)
        first = ""
        attempt = _Send()
        _ATTEMPT.set(attempt)
        self._sends.add(attempt)
        try:
            # discord.py waits out 429s and its rate-limit buckets inside channel.send.
            async with asyncio.timeout(self.send_timeout) as attempt.deadline:
                if reply_to:
                    async with self.throttle:
                        channel = await self._thread_on(channel, int(reply_to), message.title)
                    attempt.state = "idle"
                for part in render(message):
                    async with self.throttle:
                        sent = await channel.send(**_message_kwargs(part))
                    first = first or str(sent.id)
                    attempt.state = "idle"
        except TimeoutError:
            # Checked first: aiohttp's ServerTimeoutError is also a ClientError.
            if first or attempt.state != "idle":
                # A request was out (or a part already posted): it may have arrived.
                raise SendTimedOut(
                    f"Discord did not answer within {self.send_timeout}s") from None
            # Timed out while discord.py waited out a rate limit: nothing was accepted.
            raise TemporaryFailure(
                f"still rate limited after {self.send_timeout}s; not sent") from None
        except (discord.DiscordException, aiohttp.ClientError, OSError) as error:
            raise _delivery_error(error, ChatGone) from None
        finally:
            self._sends.discard(attempt)
            _ATTEMPT.set(None)
        return first

    async def _thread_on(self, channel: discord.PartialMessageable, message_id: int,
                         title: str) -> discord.PartialMessageable:
        """Where a reply to `message_id` goes: its thread, else the channel itself."""
        assert self._client is not None
        # Threads need the channel's server: the cached channel knows it (guilds intent).
        known = self._client.get_channel(channel.id)
        if not isinstance(known, discord.TextChannel):
            return channel
        try:
            thread = await known.get_partial_message(message_id).create_thread(
                name=clip(title or "…", 100), auto_archive_duration=1440)
        except (discord.NotFound, discord.Forbidden):
            # The question was deleted, or threads are not allowed here: the answer still goes
            # out, in the channel.
            return channel
        except discord.HTTPException as error:
            if error.code != THREAD_EXISTS:
                raise
            return self._client.get_partial_messageable(message_id)
        return self._client.get_partial_messageable(thread.id)

    async def edit(self, chat: ChatRef, message_id: str, message: OutgoingMessage) -> None:
        """Replace the embeds and buttons of a message the bot posted (its first part)."""
        client = self._client
        if client is None or client.is_closed():
            raise TemporaryFailure("Discord is not connected")
        channel = client.get_partial_messageable(int(chat.thread_id or chat.chat_id))
        part = render(message)[0]
        view = part.view()
        try:
            async with asyncio.timeout(self.send_timeout), self.throttle:
                await channel.get_partial_message(int(message_id)).edit(
                    embeds=list(part.embeds), view=view)
        except TimeoutError:
            raise SendTimedOut(f"Discord did not answer within {self.send_timeout}s") from None
        except (discord.DiscordException, aiohttp.ClientError, OSError) as error:
            raise _delivery_error(error, MessageGone) from None

    # ----- events in --------------------------------------------------------------------------

    def _actor(self, interaction: discord.Interaction[Any],
               channel: AppCommandChannel | None = None) -> Actor:
        user = interaction.user
        if interaction.guild_id is None:  # a DM with the bot: its own chat, whatever was picked
            ref = ChatRef(PLATFORM, str(interaction.channel_id))
            return Actor(ref, ChatKind.PRIVATE, _user_ref(user), True)
        target = channel.id if channel is not None else interaction.channel_id
        ref = ChatRef(PLATFORM, str(target))
        # The resolved channel option carries the member's permissions in that channel.
        perms = channel.permissions if channel is not None else interaction.permissions
        admin = perms.administrator or perms.manage_guild or perms.manage_channels
        name = getattr(channel if channel is not None else interaction.channel, "name", "")
        return Actor(ref, ChatKind.GROUP, _user_ref(user), admin, f"#{name}" if name else "")

    async def run_command(self, interaction: discord.Interaction[Any], name: str,
                          args: tuple[str, ...],
                          channel: AppCommandChannel | None = None) -> None:
        actor = self._actor(interaction, channel)
        # A refusal is between the bot and the one who asked, and so is a member's own record;
        # the channel needn't see them.
        quiet = (name in ADMIN_COMMANDS and not actor.is_admin) or (
            actor.chat_kind is not ChatKind.PRIVATE
            and (name in OWN_COMMANDS or _personal(name, args)))
        if not await _defer(interaction, ephemeral=quiet):
            return
        try:
            response = await self.service.handle_command(Command(actor, name, args))
        except Exception:
            log.exception("Discord: /%s failed", name)
            await self._say(interaction, t(await self._language(actor.chat), "discord_failed"))
            return
        await self._reply(interaction, response, public_ephemeral=quiet)

    async def refuse(self, interaction: discord.Interaction[Any], key: str) -> None:
        if not await _defer(interaction, ephemeral=True):
            return
        ref = ChatRef(PLATFORM, str(interaction.channel_id))
        await self._say(interaction, t(await self._language(ref), key))

    async def on_button(self, interaction: discord.Interaction[Any], payload: str) -> None:
        # Acknowledge first: Discord gives three seconds, the database may take longer.
        if not await _defer(interaction, ephemeral=True):
            return
        actor = self._actor(interaction)
        try:
            response = await self.service.handle_button(ButtonPress(actor, payload))
        except Exception:
            log.exception("Discord: a button press failed")
            await self._say(interaction, t(await self._language(actor.chat), "discord_failed"))
            return
        await self._reply(interaction, response, public_ephemeral=True)

    async def on_unknown_component(self, interaction: discord.Interaction[Any]) -> None:
        """A button or select no handler of ours knows: old buttons, forged or foreign ids.

        It gets the core's stale-button notice, privately. Such presses are the user's or a
        stranger's doing, not the bot's fault, so nothing here logs above DEBUG.
        """
        data = interaction.data or {}
        log.debug("Discord: component %r (type %s) is not ours; telling the user it is gone",
                  clip(str(data.get("custom_id", "")), 120), data.get("component_type"))
        try:
            # Acknowledge before the language lookup: the store may outlast Discord's 3 s.
            await interaction.response.defer(ephemeral=True, thinking=True)
        except discord.InteractionResponded:
            return  # something else already answered it; a second answer would be noise
        except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
            log.debug("Discord: could not acknowledge an unknown component: %s",
                      _describe(error))
            return
        language = await self._language(ChatRef(PLATFORM, str(interaction.channel_id)))
        try:
            await interaction.followup.send(content=clip(t(language, "stale_button"),
                                                         CONTENT_LIMIT),
                                            ephemeral=True, allowed_mentions=NO_MENTIONS)
        except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
            log.debug("Discord: could not answer an unknown component: %s", _describe(error))

    async def _reply(self, interaction: discord.Interaction[Any], response: Response, *,
                     public_ephemeral: bool) -> None:
        """Followups after the deferral: public messages first (the first followup replaces the
        'thinking' placeholder and keeps its visibility), then the private ones, then the toast
        when nothing else was said."""
        try:
            sent = 0
            if response.remember and response.public and not public_ephemeral:
                # A message the bot will edit later (the leaderboard): posted in the channel
                # as the bot's own, not as an interaction followup whose token expires.
                first, *rest = response.public
                try:
                    message_id = await self.send(self._actor(interaction).chat, first)
                except DeliveryError as error:
                    log.warning("Discord: could not post in the channel: %s", error)
                else:
                    await self.service.posted(self._actor(interaction).chat, response.remember,
                                              message_id)
                    response = replace(response, public=tuple(rest))
            for message, ephemeral in ([(m, public_ephemeral) for m in response.public]
                                       + [(m, True) for m in response.private]):
                for part in render(message):
                    await interaction.followup.send(
                        ephemeral=ephemeral, **_message_kwargs(part))
                    sent += 1
            if response.toast and not response.private:
                await interaction.followup.send(content=clip(response.toast, CONTENT_LIMIT),
                                                ephemeral=True, allowed_mentions=NO_MENTIONS)
                sent += 1
            if not sent:
                await interaction.delete_original_response()
        except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
            log.warning("Discord: could not answer an interaction: %s", _describe(error))

    async def _say(self, interaction: discord.Interaction[Any], text: str) -> None:
        try:
            await interaction.followup.send(content=clip(text, CONTENT_LIMIT), ephemeral=True,
                                            allowed_mentions=NO_MENTIONS)
        except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
            log.warning("Discord: could not answer an interaction: %s", _describe(error))

    async def _language(self, ref: ChatRef) -> str:
        with contextlib.suppress(Exception):
            chat = await self.service.store.get_chat(ref)
            if chat is not None:
                return chat.language
        return self.service.config.default_language

    async def guild_removed(self, guild: discord.Guild) -> None:
        """The bot left or was removed from a server: pause every subscription in it."""
        reason = f"removed from Discord server {guild.id}"
        for channel in [*guild.channels, *guild.threads]:
            await self.service.chat_gone(ChatRef(PLATFORM, str(channel.id)), reason)

    async def channel_removed(self, channel_id: int, reason: str) -> None:
        await self.service.chat_gone(ChatRef(PLATFORM, str(channel_id)), reason)


def reaches_study_button(interaction: discord.Interaction[Any]) -> bool:
    """Whether discord.py's view store will call StudyButton for this component interaction.

    The same test as discord.py's dynamic item dispatch (ViewStore.dispatch_dynamic_items and
    schedule_dynamic_item_call): the custom_id matches the template and the message carries a
    component of the interaction's type with that custom_id; otherwise it is dropped there.
    StudyButton is the client's only component handler (no persistent views are added), so
    anything else has no handler at all.
    """
    data = interaction.data or {}
    custom_id = data.get("custom_id")
    component_type = data.get("component_type")
    message = interaction.message
    if not isinstance(custom_id, str) or not _OUR_CUSTOM_ID.fullmatch(custom_id) \
            or message is None:
        return False
    try:
        view_class = discord.ui.LayoutView if message.flags.components_v2 else discord.ui.View
        view = view_class.from_message(message, timeout=None)
    except Exception:  # the dispatch would fail on it too, and nobody would answer
        return False
    return any(item.type.value == component_type and getattr(item, "custom_id", None) == custom_id
               for item in view.walk_children())


async def _defer(interaction: discord.Interaction[Any], *, ephemeral: bool) -> bool:
    """Acknowledge an interaction; False when it can no longer be answered."""
    try:
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
    except discord.InteractionResponded:
        return True
    except (discord.HTTPException, aiohttp.ClientError, OSError) as error:
        log.warning("Discord: could not acknowledge an interaction: %s", _describe(error))
        return False
    return True


class _Send:
    """One Messenger send: whether a request of it is out, for telling a timeout that may have
    posted the message from one spent waiting out a rate limit."""

    def __init__(self) -> None:
        self.state = "idle"  # "sending": request out; "accepted": 2xx, body not read yet
        self.deadline: asyncio.Timeout | None = None


_ATTEMPT: contextvars.ContextVar[_Send | None] = contextvars.ContextVar(
    "studybot_discord_send", default=None)


def _request_tracer() -> aiohttp.TraceConfig:
    """aiohttp hooks, run in the sending task, so the current send sees its own requests."""
    async def started(session: aiohttp.ClientSession, context: Any,
                      params: aiohttp.TraceRequestStartParams) -> None:
        if (attempt := _ATTEMPT.get()) is not None:
            attempt.state = "sending"

    async def answered(session: aiohttp.ClientSession, context: Any,
                       params: aiohttp.TraceRequestEndParams) -> None:
        if (attempt := _ATTEMPT.get()) is not None:
            attempt.state = "accepted" if 200 <= params.response.status < 300 else "idle"

    async def failed(session: aiohttp.ClientSession, context: Any,
                     params: aiohttp.TraceRequestExceptionParams) -> None:
        # A request that died with an exception may still have reached Discord; leave
        # "sending" in place unless it is a connection that never opened.
        attempt = _ATTEMPT.get()
        if attempt is not None and isinstance(params.exception, aiohttp.ClientConnectorError):
            attempt.state = "idle"

    tracer = aiohttp.TraceConfig()
    tracer.on_request_start.append(started)
    tracer.on_request_end.append(answered)
    tracer.on_request_exception.append(failed)
    return tracer


def _message_kwargs(part: DiscordMessage) -> dict[str, Any]:
    view, file = part.view(), part.file()
    return {"embeds": list(part.embeds), "view": view if view is not None else MISSING,
            "file": file if file is not None else MISSING, "allowed_mentions": NO_MENTIONS}


def _delivery_error(error: BaseException, not_found: type[DeliveryError]) -> DeliveryError:
    """What a failed send or edit means for the core; `not_found` for a 404 (a deleted channel
    when sending, a deleted message when editing)."""
    if isinstance(error, discord.NotFound):
        return not_found(_describe(error))
    if isinstance(error, discord.Forbidden):
        return ChatGone(_describe(error))
    if isinstance(error, discord.RateLimited):
        return TemporaryFailure(f"rate limited for {error.retry_after:.0f}s")
    if isinstance(error, discord.HTTPException):
        if error.status >= 500:
            return TemporaryFailure(_describe(error))
        return DeliveryError(_describe(error))
    if isinstance(error, aiohttp.ClientError | OSError):
        return TemporaryFailure(_describe(error))
    return DeliveryError(_describe(error))


def _user_ref(user: discord.abc.User) -> UserRef:
    return UserRef(PLATFORM, str(user.id), user.display_name)


def _describe(error: BaseException) -> str:
    """A short account of an error: Discord's status, code and message, else the exception.

    Neither carries the token: discord.py sends it only in a header and the IDENTIFY payload,
    and the adapter masks it once more before logging anything built from an exception.
    """
    if isinstance(error, discord.HTTPException):
        text = f"HTTP {error.status} (code {error.code}): {error.text}"
    else:
        text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return _mask(clip(text, 200))


_SECRETS: set[str] = set()  # tokens of started adapters, masked in every description


def _mask(text: str) -> str:
    for secret in _SECRETS:
        text = text.replace(secret, "***")
    return text


def _personal(name: str, args: tuple[str, ...]) -> bool:
    """A member's own record and board choice are theirs: in a server only they see the answer
    (/stats group is the channel's week, /top alone the channel's board)."""
    return (name == "stats" and args[:1] != ("group",)) or (name == "top" and bool(args))
