"""The one place where dependencies are built and connected.

`build_app(settings)` returns an `App`: engine, store, registry, deps and
dispatcher. Adapters and the service take what they need from it. Nothing
here imports pandas or FastF1 (the bot process stays small), and the LLM
client (openai) is only imported when `LLM_BASE_URL` is set.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from bot.app import BotDeps, Clock, utc_now
from bot.commands import register_all
from bot.conversation import ConversationHandler
from bot.dispatch import Dispatcher
from bot.registry import Registry
from bot.settings import Settings
from storage.db import init_db, make_engine
from storage.store import Store

log = logging.getLogger(__name__)


@dataclass(slots=True)
class App:
    settings: Settings
    engine: Engine
    store: Store
    registry: Registry
    deps: BotDeps
    dispatcher: Dispatcher

    async def aclose(self) -> None:
        if self.deps.llm is not None and hasattr(self.deps.llm, "aclose"):
            await self.deps.llm.aclose()
        await asyncio.to_thread(self.store.close)  # queued memory writes land before the engine goes
        self.engine.dispose()


def build_llm(settings: Settings) -> tuple[object | None, object | None]:
    """(LLMClient, PromptRenderer) when an LLM is configured, else (None, None)."""
    if not settings.llm_base_url:
        return None, None
    try:
        from bot.llm import LLMClient
        from bot.prompting import PromptRenderer
    except ImportError as exc:  # LLM path not installed / not built yet: stay deterministic
        log.warning("LLM_BASE_URL is set but the LLM path is unavailable (%s); answering without it", exc)
        return None, None
    return LLMClient.from_settings(settings), PromptRenderer()


def build_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Clock = utc_now,
    init_schema: bool = True,
) -> App:
    """Wire engine → store → registry → deps → dispatcher."""
    engine = engine or make_engine(settings.database_url)
    if init_schema:
        init_db(engine)
    store = Store(engine)
    registry = Registry()
    register_all(registry)
    llm, prompts = build_llm(settings)
    deps = BotDeps(
        settings=settings,
        store=store,
        registry=registry,
        llm=llm,
        prompts=prompts,
        clock=clock,
        conversation=ConversationHandler(),
    )
    # Stored moderators and per-channel settings apply on every path (chat, ask, adapters).
    from bot.policy import install_hooks

    install_hooks(deps, engine)
    return App(settings, engine, store, registry, deps, Dispatcher(deps))
