"""What every handler gets: `BotDeps` (the wired dependencies) and `CommandContext`.

`BotDeps` is built once in `slipstream.wiring.build_app` and passed down; no
handler reaches for a global. Optional pieces (LLM client, prompt renderer,
stored-privilege lookup) are None when not configured.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.model import ChannelRef, Incoming, Privilege, Responder, UserRef
from bot.registry import Registry
from bot.settings import Settings
from storage.store import Store

if TYPE_CHECKING:  # imported lazily at runtime: openai is heavy and optional
    from bot.channels import ChannelPolicy, ChannelPolicyCache
    from bot.conversation import ConversationHandler

Clock = Callable[[], dt.datetime]
PrivilegeLookup = Callable[[UserRef, ChannelRef], Awaitable[Privilege]]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(slots=True)
class BotDeps:
    """Dependencies shared by all handlers (one instance per running bot)."""

    settings: Settings
    store: Store
    registry: Registry
    llm: Any | None = None  # bot.llm.LLMClient when LLM_BASE_URL is set
    prompts: Any | None = None  # bot.prompting.PromptRenderer when an LLM is configured
    clock: Clock = utc_now
    # Stored moderator lists etc. (service area); raises a user's platform privilege.
    privilege_lookup: PrivilegeLookup | None = None
    # Style per channel (service area may set it); None = defaults.
    style_lookup: Callable[[ChannelRef], Awaitable[Any]] | None = None
    conversation: ConversationHandler | None = None
    charts: Any | None = None  # bot.charts.Charts (drawing pool and cache), built in build_app
    predictor: Any | None = None  # bot.predict.service.Predictor (model thread, forecast cache), built in build_app
    lab: Any | None = None  # bot.lab.service.RaceLab (worker process and cache), built in build_app
    # Per-channel moderator settings (answers on/off, LLM on/off, rate limits, style),
    # cached; set by `bot.policy.install_hooks` (wired in `build_app`).
    channel_policies: ChannelPolicyCache | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class CommandContext:
    """One command invocation: who asked where, and how to answer."""

    incoming: Incoming
    deps: BotDeps
    responder: Responder
    privilege: Privilege = Privilege.USER  # effective privilege, after stored lookups
    policy: ChannelPolicy | None = None  # this channel's moderator settings (None = defaults)

    @property
    def store(self) -> Store:
        return self.deps.store

    def now(self) -> dt.datetime:
        return self.deps.clock()
