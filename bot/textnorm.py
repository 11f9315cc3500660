"""Clean text that users send before anything else reads it.

Platforms hand us whatever a client typed or a script sent: Slack's JSON may
hold a lone surrogate (``"\\ud800"``), which cannot be encoded as UTF-8 and made
the store, the logger and the model client raise; NUL cannot be stored in a
PostgreSQL text column; invisible characters (zero-width spaces, bidi overrides)
make "monza" fail to match "mon\\u200bza" or make a name read backwards in a log.

`clean` removes those and applies NFC (so "é" typed as e + combining accent
matches the stored "é"). Newlines and tabs stay. The zero-width joiner and
non-joiner stay too: emoji sequences and several scripts need them.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from typing import Any

from bot.model import Incoming

# Lone surrogates, C0/C1 controls except tab and newline (CR becomes a newline first),
# DEL, and invisible format characters that only hide or reorder text.
_JUNK = re.compile(
    "[\ud800-\udfff"
    "\x00-\x08\x0b-\x1f\x7f-\x9f"
    "\u200b\u200e\u200f\u2060-\u2064\ufeff\u180e"
    "\u202a-\u202e\u2066-\u2069]"
)


def clean(text: str) -> str:
    """`text` without junk characters (module doc), in NFC."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _JUNK.sub("", text)
    return unicodedata.normalize("NFC", text)


def _clean_value(value: Any) -> Any:
    return clean(value) if isinstance(value, str) else value


def clean_incoming(incoming: Incoming) -> Incoming:
    """The event with its text and every string option cleaned (slash options too)."""
    text = clean(incoming.text) if incoming.text else incoming.text
    command = incoming.command
    if command is not None:
        command = dataclasses.replace(
            command, args={clean(k): _clean_value(v) for k, v in command.args.items()}
        )
    user = incoming.user
    if user.name and clean(user.name) != user.name:  # display names end up in logs and prompts
        user = dataclasses.replace(user, name=clean(user.name))
    return dataclasses.replace(incoming, text=text, command=command, user=user)
