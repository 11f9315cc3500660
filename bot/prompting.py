"""Prompt rendering: Jinja templates from the `prompts` package, strict about variables.

Why Jinja with `StrictUndefined`: a misspelt variable must fail in tests, not ship
an empty slot to the model. Why filters for the user's text: chat text goes into
its own delimited slot (`<question>`), and the `chat_text` filter makes sure it can
never close that slot or open another (angle brackets are replaced), nor flood the
prompt (length cap). Facts are rendered as compact JSON, which small models read
well and which costs few tokens.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any, Literal, get_args

from jinja2 import BaseLoader, Environment, StrictUndefined, TemplateNotFound

Tone = Literal["casual", "technical", "neutral"]
Length = Literal["short", "medium", "long"]

LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "nl": "Dutch",
    "pt": "Portuguese",
    "pl": "Polish",
    "fi": "Finnish",
    "ja": "Japanese",
    "zh": "Chinese",
}
# Upper bound on generated tokens per length; the configured llm_max_tokens caps it further.
LENGTH_TOKENS: dict[str, int] = {"short": 120, "medium": 260, "long": 500}

_LANGUAGE_OK = re.compile(r"[^\W\d_](?:[^\W\d_]|[ \-]){1,30}")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Style:
    """How an answer should read; set per channel by moderators.

    Raises ValueError for an unknown tone or length, or a language that is not a
    short plain name/code (it is rendered into the system prompt, so it must not
    carry instructions).
    """

    tone: Tone = "neutral"
    length: Length = "medium"
    language: str = "en"

    def __post_init__(self) -> None:
        if self.tone not in get_args(Tone):
            raise ValueError(f"tone must be one of {get_args(Tone)}, not {self.tone!r}")
        if self.length not in get_args(Length):
            raise ValueError(f"length must be one of {get_args(Length)}, not {self.length!r}")
        if not _LANGUAGE_OK.fullmatch(self.language or ""):
            raise ValueError(
                f"language must be a code or name like 'en' or 'German': {self.language!r}"
            )

    @property
    def language_name(self) -> str:
        return LANGUAGE_NAMES.get(self.language.lower(), self.language)

    @property
    def max_tokens(self) -> int:
        return LENGTH_TOKENS[self.length]


def compact_json(value: Any) -> str:
    """Facts as one-line JSON. `</` is escaped so a value can never close a prompt tag."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
    return text.replace("</", "<\\/")


def chat_text(value: Any, limit: int = 2000) -> str:
    """User-written text made safe for its slot: no tags, no control chars, capped length."""
    text = _CONTROL.sub(" ", str(value)).replace("<", "‹").replace(">", "›").strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


_FLATTEN = re.compile(r"[<>{}\[\]`\"\\|#*_~]+")
_AT = re.compile(r"@+|<!")


def quoted_question(value: Any, limit: int = 300) -> str:
    """The user's question as one quoted line that cannot pose as anything else.

    Tags, JSON, code and markup characters are flattened to spaces (a typed ``</question>`` or
    ``{"winner": "HAM"}`` arrives as plain words), mentions lose their ``@``, line breaks go
    (no fake "Facts:" block), and the length is capped.
    """
    text = _CONTROL.sub(" ", str(value))
    text = _AT.sub(" ", _FLATTEN.sub(" ", text))
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


class PromptRenderer:
    """Renders `prompts/*.j2` (and sub-folders such as `prompts/pulse/`).

    Args:
        package: the package holding the templates; tests may point at another one.
    """

    def __init__(self, package: str = "prompts") -> None:
        self._root = resources.files(package)
        self.env = Environment(
            loader=_ResourceLoader(self._root),
            undefined=StrictUndefined,
            autoescape=False,  # Markdown / plain text for a model, not HTML
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["compact_json"] = compact_json
        self.env.filters["chat_text"] = chat_text
        self.env.filters["quoted_question"] = quoted_question

    def render(self, template_name: str, **variables: Any) -> str:
        """Render one template. Raises jinja2.UndefinedError for a missing variable."""
        text = self.env.get_template(template_name).render(**variables)
        return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"

    def phrase_messages(
        self,
        *,
        claims: Sequence[str],
        must: Sequence[str],
        question: str,
        style: Style,
        task: Literal["answer", "pulse"] = "answer",
    ) -> list[dict[str, str]]:
        """The chat messages for one phrased answer: the rules, then the claims and the question.

        The model sees the deterministic answer's claims (one per line) and the question, quoted
        and neutralised; nothing else from the store and no earlier turns (the resolver has
        already read "he" and "that race"), so a typed-in fact or rule has nowhere to hide.
        """
        system = self.render("phrase_system.md.j2", style=style)
        user = self.render("phrase.md.j2", claims=list(claims), must=list(must), question=question, task=task)
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]


class _ResourceLoader(BaseLoader):
    """A Jinja loader over importlib.resources (works from a wheel or a zip too)."""

    def __init__(self, root: Any) -> None:
        self._root = root

    def get_source(self, environment: Environment, template: str) -> tuple[str, str, Any]:
        parts = [p for p in template.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            raise TemplateNotFound(template)
        node = self._root
        for p in parts:
            node = node.joinpath(p)
        if not node.is_file():
            raise TemplateNotFound(template)
        # Package resources do not change while running: always up to date.
        return node.read_text(encoding="utf-8"), template, lambda: True
