"""The neutral model every adapter translates to and from.

Ids are namespaced by platform so that one store can serve several platforms:
`discord:<guild>:<channel>`, `slack:<team>:<channel>`, `console:local:<name>`;
users likewise (`discord:<user>`, `slack:<team>:<user>`, `console:<name>`).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Literal, Protocol, runtime_checkable

Platform = Literal["discord", "slack", "console"]


class Privilege(IntEnum):
    """Who may run a command. Ordered: a higher level includes the lower ones.

    Do not reorder or renumber: stored settings and checks compare these values.
    """

    USER = 0
    MODERATOR = 10
    ADMIN = 20
    OWNER = 30


@dataclass(frozen=True, slots=True)
class ChannelRef:
    platform: Platform
    id: str  # namespaced, e.g. "slack:T1:C9"
    is_dm: bool = False
    name: str | None = None


@dataclass(frozen=True, slots=True)
class UserRef:
    platform: Platform
    id: str  # namespaced, e.g. "discord:1234"
    name: str = ""
    is_bot: bool = False
    # What the platform says about this user (Discord Manage Server, Slack admin/owner).
    # The core may raise it further from stored moderator lists; it never trusts a UI hint.
    privilege: Privilege = Privilege.USER


@dataclass(slots=True)
class CommandCall:
    """A command whose arguments the platform already parsed (Discord options)."""

    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Incoming:
    """One message, mention, DM, thread reply or command, as the core sees it.

    `text` holds the raw text: for a Slack `/f1 results monza` it is
    `"results monza"`, for a mention the message without the bot's mention.
    `command` is set instead when the platform parsed the options itself.
    """

    event_id: str  # platform event / interaction id, for de-duplication
    channel: ChannelRef
    user: UserRef
    text: str = ""
    kind: Literal["command", "mention", "dm", "message", "thread_reply"] = "message"
    command: CommandCall | None = None
    # Conversation key for follow-ups (thread ts / reply chain root); None = no memory.
    conversation_id: str | None = None
    received_at: float = field(default_factory=time.perf_counter)


@dataclass(slots=True)
class CardField:
    name: str
    value: str
    inline: bool = True


@dataclass(slots=True)
class Card:
    """A rich block: a Discord embed, Slack Block Kit section(s), a terminal panel."""

    title: str
    description: str = ""
    fields: list[CardField] = field(default_factory=list)
    colour: str | None = None  # hex without '#', e.g. team colour "3671C6"
    footer: str | None = None
    url: str | None = None


@dataclass(slots=True)
class Image:
    filename: str
    data: bytes
    alt: str = ""


@dataclass(frozen=True, slots=True)
class LocalTime:
    """A moment to show in each reader's own time zone; adapters render it, the core never.

    The reply's text holds `marker` where the time goes. Each adapter's renderer
    replaces it (Discord `<t:…>`, Slack `<!date^…>`, the console plain UTC and a
    relative time); `fallback` is the UTC text for anything that cannot localise.
    The marker is letters and digits only, so no renderer step (escaping, Markdown,
    splitting at spaces) alters or cuts it, and 64 random bits per time, so text
    from a model can neither guess nor forge one: only code builds a `LocalTime`.
    """

    marker: str
    at: dt.datetime  # aware UTC

    @property
    def unix(self) -> int:
        return int(self.at.timestamp())

    @property
    def fallback(self) -> str:
        return self.at.astimezone(dt.UTC).strftime("%a %d %b %H:%M UTC")

    @staticmethod
    def new(at: dt.datetime) -> LocalTime:
        """A `LocalTime` with a fresh random marker."""
        return LocalTime(marker=f"SLIPTIME{secrets.token_hex(8)}Z", at=at.astimezone(dt.UTC))


@dataclass(slots=True)
class Reply:
    """What a handler returns. Markdown text (CommonMark subset) plus optional extras.

    Adapters render it; they must send text with mentions disabled / escaped
    (`@everyone`, `<!channel>` in model output must ping nobody).
    """

    text: str = ""
    cards: list[Card] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    ephemeral: bool = False  # only the asking user sees it, where the platform can
    suggestions: list[str] = field(default_factory=list)  # follow-up questions
    # Times named in the text by marker, rendered per platform (see `LocalTime`).
    local_times: tuple[LocalTime, ...] = ()

    def show_times(self, show: Callable[[LocalTime], str]) -> Reply:
        """The same reply with each time marker replaced by `show(time)`, everywhere text goes.

        Renderers whose output is not escaped afterwards (Discord, the console) call
        this first; Slack substitutes after escaping instead (`adapters.slack.render`).
        """
        if not self.local_times:
            return self

        def fill(text: str) -> str:
            for t in self.local_times:
                text = text.replace(t.marker, show(t))
            return text

        cards = [
            Card(title=fill(c.title), description=fill(c.description),
                 fields=[CardField(fill(f.name), fill(f.value), f.inline) for f in c.fields],
                 colour=c.colour, footer=fill(c.footer) if c.footer else c.footer, url=c.url)
            for c in self.cards
        ]
        return Reply(text=fill(self.text), cards=cards, images=self.images, ephemeral=self.ephemeral,
                     suggestions=[fill(x) for x in self.suggestions])

    def with_utc_times(self) -> Reply:
        """Every time as its UTC fallback: for a poster that cannot localise (never a raw marker)."""
        return self.show_times(lambda t: t.fallback)


@dataclass(frozen=True, slots=True)
class PlatformLimits:
    """Per-platform limits the core's streaming and splitting respect."""

    max_text: int  # characters per message (Discord 2000; Slack ~ 40000, 3000 per section)
    edit_interval_s: float = 1.0  # streaming edits at most this often


@runtime_checkable
class Responder(Protocol):
    """Given by the adapter for one incoming event; hides the platform's reply rules.

    Discord: first reply is the interaction response / deferred edit, later ones
    follow-ups. Slack: `ack()` happened already; replies go to the thread.
    """

    limits: PlatformLimits

    async def defer(self) -> None:
        """Tell the platform an answer is coming (Discord 'thinking…'). Idempotent."""

    async def send(self, reply: Reply) -> str | None:
        """Send a new message; return its platform message id when there is one."""

    async def edit(self, message_id: str, reply: Reply) -> None:
        """Replace the content of a message sent by `send` (used for streaming)."""


@runtime_checkable
class ChannelPoster(Protocol):
    """Posting outside a conversation: Track Pulse highlights and reminders."""

    platform: Platform

    async def post(
        self, channel_id: str, reply: Reply, *, idempotency_key: str, maybe_posted: bool = False
    ) -> str:
        """Post `reply` to a namespaced channel id; return the platform message id.

        `idempotency_key` is stable per (highlight, channel): adapters pass it to
        the platform where possible (Discord message nonce) so a retry cannot
        post twice. `maybe_posted` is True when an earlier attempt with this key
        may have reached the platform without being recorded (a crash or a lost
        answer, possibly in another process): a platform without idempotency keys
        (Slack) must then look for that earlier message before posting.
        Raises `bot.errors.DeliveryError` on a permanent failure and
        `bot.errors.RateLimited` (with `retry_after`) when throttled, which must
        mean "not posted"; any other exception counts as "may have been posted".

        The keyword is newer than the protocol: callers pass it only to posters
        whose `post` accepts it (`bot.pulse.deliver.post_once`), so an older
        poster without it keeps working.

        A poster MAY also define `edit` (see `EditingPoster`): Track Pulse stories
        are then edited in place instead of re-posted.
        """


@runtime_checkable
class EditingPoster(ChannelPoster, Protocol):
    """A `ChannelPoster` that can also edit a message it posted: Track Pulse stories
    (a battle, the fastest lap) are one message updated as they evolve (issue 18).

    `edit` is optional: a poster without it gets a story's updates as new posts
    (`bot.pulse.deliver`), which checks with `can_edit`.
    """

    async def edit(self, channel_id: str, message_id: str, reply: Reply) -> str:
        """Replace the content of message `message_id` in the channel; return its id.

        Edits are idempotent (a retry sets the same text again), so no key is
        needed. Raises like `post`: `DeliveryError` when the message or channel is
        gone for good, `RateLimited` when throttled ("not edited"); any other
        exception means "maybe edited" and the edit is simply retried.
        """
        ...


def can_edit(poster: ChannelPoster) -> bool:
    """Whether `poster` defines the optional `edit` (see `EditingPoster`)."""
    return callable(getattr(poster, "edit", None))
