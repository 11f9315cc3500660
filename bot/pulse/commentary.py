"""Highlights → chat messages.

Deterministic Jinja templates (`prompts/pulse/<language>.md.j2`) always give a
message; when an LLM is configured the model may write it instead, through
the core's grounded path (`bot.grounded.answer_with_llm`): the model phrases the
claims of the template text and must pass the claim guard against them,
otherwise the template text is used. Bursts (several pit stops in one lap, several passes in one lap) become
one message.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from bot.prompting import LANGUAGE_NAMES, PromptRenderer, Style
from bot.pulse import stories
from bot.pulse.stories import Told
from bot.pulse.types import PulseHighlight

log = logging.getLogger(__name__)

TEMPLATE_LANGUAGES = ("en",)  # complete template sets; others fall back to English with a note


def group_bursts(highlights: Sequence[PulseHighlight]) -> list[list[PulseHighlight]]:
    """Same-kind, same-lap highlights of the burst kinds as one group (`stories.group_bursts`)."""
    return stories.group_bursts(
        highlights, lambda h: (h.kind, h.lap) if h.kind in stories.BURST_KINDS else None
    )


def _secs(ms: Any) -> str:
    if ms is None:
        return "?"
    return f"{abs(int(ms)) / 1000:.1f}" if abs(int(ms)) < 10000 else f"{int(ms) / 1000:.1f}"


def _laptime(ms: Any) -> str:
    if ms is None:
        return "?"
    ms = int(ms)
    minutes, rest = divmod(ms, 60000)
    return f"{minutes}:{rest / 1000:06.3f}" if minutes else f"{rest / 1000:.3f}"


def _pts(v: Any) -> str:
    if v is None:
        return "?"
    f = float(v)
    return str(int(f)) if f.is_integer() else f"{f:g}"


def _pos(v: Any) -> str:
    return f"P{int(v)}" if v else "P?"


def _abs_secs(ms: Any) -> str:
    return _secs(abs(int(ms))) if ms is not None else "?"


class Commentator:
    """Writes messages for highlights. Cheap to build; holds no connections.

    Args:
        renderer: the core's prompt renderer (a fresh one over `prompts/` by default).
        llm: the core's LLMClient, or None for templates only.
    """

    def __init__(
        self, renderer: PromptRenderer | None = None, llm: Any | None = None, vocab: Any | None = None
    ) -> None:
        self.renderer = renderer or PromptRenderer()
        self.renderer.env.filters.update(
            secs=_secs, laptime=_laptime, pts=_pts, abs_secs=_abs_secs, pos=_pos
        )
        self.llm = llm
        self.vocab = vocab  # bot.claims.Vocabulary; the store-free basic one when None

    def template_text(
        self, group: Sequence[PulseHighlight], style: Style, *,
        window: tuple[int, int] | None = None, story: bool = False,
    ) -> str:
        """The deterministic message for one highlight, a burst, a digest (`window`) or an
        evolving story's chapters so far (`story`)."""
        lang = (style.language or "en").lower()
        note = ""
        if lang not in TEMPLATE_LANGUAGES:
            name = LANGUAGE_NAMES.get(lang, style.language)
            note = f"(Track Pulse has no {name} templates yet: shown in English.)"
            lang = "en"
        items = [h.as_dict() for h in group]
        return self.renderer.render(
            f"pulse/{lang}.md.j2", items=items, style=style, note=note, window=window, story=story,
        ).strip()

    async def write_told(self, told: Told, style: Style) -> str:
        """A planned message (`bot.pulse.stories`): digests and story updates are lists of
        facts, written by the template; a headline may be phrased by the model."""
        if told.window or told.story:
            return self.template_text(told.items, style, window=told.window, story=bool(told.story))
        return await self.write(told.items, style)

    async def write(self, group: Sequence[PulseHighlight], style: Style) -> str:
        """LLM-written when a model is configured and its text passes the claim guard;
        the template text otherwise (also when the model is down)."""
        fallback = self.template_text(group, style)
        if self.llm is None:
            return fallback
        from bot.grounded import answer_with_llm  # the core's guarded path
        from bot.vocab import basic_vocabulary

        try:
            # The template text is the truth: the model phrases its claims, the guard checks.
            ans = await answer_with_llm(
                llm=self.llm, renderer=self.renderer, vocab=self.vocab or basic_vocabulary(),
                question="", style=style, responder=None, fallback_text=fallback, task="pulse",
            )
        except Exception:  # the template text is always a correct answer
            log.exception("pulse commentary: LLM path failed, using the template text")
            return fallback
        return ans.text.strip() or fallback
