"""Highlights → the stories a channel is told: fewer, in lap order, updated rather than repeated.

Detection finds events; a channel wants the race as a fan would tell it. Pure functions
here decide, for one channel's wanted highlights, what becomes a message:

- **Headlines** get a message of their own: the start, every lead change, safety cars,
  VSCs and red flags, decided penalties, rain, front-runners' retirements, late passes
  for the podium, the result and the championship, qualifying's stories.
- **Evolving stories** (a neutralisation, the fastest lap, a battle for the podium) are
  posted once and then edited: each highlight carries `facts["story"]`, and the message
  for a later one names the same story so the outbox edits the first message.
- Everything else the channel asked for is folded into a **digest** per window of
  `DIGEST_LAPS` laps ("Laps 11–20: pit stops NOR, PIA, SAI; passes …"), told when the
  window closes. The detectors mark a closed window with a `phase` highlight, so a live
  run learns of it exactly once, like any other new highlight.

Messages are ordered by the lap they are told at (`facts["told_lap"]`): a pass confirmed a
lap later, a retirement seen a lap and a half later, a digest at its window's end.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bot.pulse.types import Priority, PulseHighlight

T = TypeVar("T")

DIGEST_LAPS = 10
PHASE = "phase"  # the window-closed marker's kind (never shown)
NEUTRAL_KINDS = frozenset({"safety_car", "vsc", "red_flag", "restart"})
HEADLINE_KINDS = frozenset({
    "start", "lead_change", "penalty", "result", "championship", "pole", "knockout",
    "quali_surprise", "preview",
})
# Rank within a lap: what happened first in a fan's telling, digests before the result.
_RANK = {"start": 0, "lead_change": 1, "safety_car": 2, "red_flag": 2, "vsc": 2, "restart": 2,
         "retirement": 3, "penalty": 4, "overtake": 5, "battle": 6, "fastest_lap": 7,
         "weather": 3, "digest": 8, "result": 9, "championship": 10}


@dataclass(frozen=True, slots=True)
class Told:
    """One message for one channel.

    `items` are what the text is written from (a digest's members, a story so far);
    `new` are the highlights this message delivers (each delivered once per channel);
    `story` names an evolving story (the outbox edits its first message); `window` is a
    digest's (first lap, last lap).
    """

    items: tuple[PulseHighlight, ...]
    new: tuple[PulseHighlight, ...]
    told_lap: int
    story: str | None = None
    window: tuple[int, int] | None = None

    @property
    def kind(self) -> str:
        return "digest" if self.window else self.items[-1].kind


def told_lap(h: PulseHighlight) -> int:
    return int(h.facts.get("told_lap") or h.lap or 0)


def window_of(lap: int) -> tuple[int, int]:
    """The digest window a lap belongs to: laps 1–10, 11–20, ..."""
    start = (max(lap, 1) - 1) // DIGEST_LAPS * DIGEST_LAPS + 1
    return start, start + DIGEST_LAPS - 1


def role(h: PulseHighlight) -> str:
    """'headline', 'story' or 'digest' (or 'marker' for a window-closed phase)."""
    if h.kind == PHASE:
        return "marker"
    if h.kind in NEUTRAL_KINDS and h.facts.get("story"):
        return "story"
    if h.kind == "fastest_lap":
        return "story"
    if h.kind == "battle":
        return "story" if h.priority >= Priority.HIGH else "digest"
    if h.kind in HEADLINE_KINDS or h.kind in NEUTRAL_KINDS:
        return "headline"
    if h.kind == "retirement":
        return "headline" if h.priority >= Priority.HIGH else "digest"
    if h.kind == "weather":
        return "headline" if h.facts.get("change") in ("rain started", "rain stopped",
                                                         "wet from the start") else "digest"
    if h.kind == "overtake":
        total = h.facts.get("total_laps")
        late = bool(total) and h.lap >= 2 * int(total) / 3
        decisive = h.priority >= Priority.HIGH and not h.facts.get("crippled") and late
        return "headline" if decisive else "digest"
    return "digest"


def tell(
    new: Sequence[PulseHighlight],
    *,
    session: Sequence[PulseHighlight] | None = None,
    wants: Callable[[PulseHighlight], bool] = lambda h: True,
    is_race: bool = True,
    fold: bool = True,
) -> list[Told]:
    """The messages one channel gets for the `new` highlights of a session.

    `session` is every highlight of the session so far (new ones included): a digest
    closed by a new marker, and a story's earlier chapters, are read from it.
    `wants` is the channel's filter (kinds, priority floor, drivers/teams). `fold=False`
    (a channel that follows chosen kinds, drivers or teams: it asked for exactly these)
    tells digest material as it comes, same-lap bursts of a kind in one message.
    """
    session = list(session) if session is not None else list(new)
    if not is_race:  # qualifying and practice: every story stands on its own
        return [Told(items=(h,), new=(h,), told_lap=told_lap(h))
                for h in new if h.kind != PHASE and wants(h)]
    out: list[Told] = []
    merged_start: set[str] = set()
    starts = {h.key: h for h in new if h.kind == "start" and wants(h)}
    for h in new:
        r = role(h)
        if r == "marker":
            if not fold:
                continue
            first, last = int(h.facts["first_lap"]), int(h.facts["last_lap"])
            members = tuple(
                m for m in session
                if role(m) == "digest" and first <= told_lap(m) <= last and wants(m)
            )
            if members:
                out.append(Told(items=members, new=members, told_lap=last, window=(first, last)))
            continue
        if not wants(h) or h.key in merged_start or (r == "digest" and fold):
            continue
        if r == "digest":
            out.append(Told(items=(h,), new=(h,), told_lap=told_lap(h)))
            continue
        if h.kind == "lead_change" and h.facts.get("cause") == "start" and starts:
            start = next(iter(starts.values()))  # one message for the start and who leads it
            merged_start.add(start.key)
            out.append(Told(items=(start, h), new=(start, h), told_lap=told_lap(h)))
            continue
        if r == "story":
            key = str(h.facts.get("story") or h.kind)
            chapters = tuple(
                m for m in session
                if (m.facts.get("story") or m.kind) == key and wants(m) and told_lap(m) <= told_lap(h)
                and m.kind != PHASE
            ) or (h,)
            if h not in chapters:
                chapters = (*chapters, h)
            out.append(Told(items=chapters, new=(h,), told_lap=told_lap(h), story=key))
            continue
        out.append(Told(items=(h,), new=(h,), told_lap=told_lap(h)))
    # Drop a start already told together with its lead change.
    out = [t for t in out if not (len(t.items) == 1 and t.items[0].key in merged_start)]
    order = {h.key: i for i, h in enumerate(session)}
    out.sort(key=lambda t: (t.told_lap, _RANK.get(t.kind, 5), order.get(t.new[0].key, 0)))
    return _merge_chapters(out if fold else _bursts(out))


# Kinds told together when several happen on the same lap, and from how many on (channels
# that follow chosen kinds / drivers, and the demo's replay).
BURST_KINDS: dict[str, int] = {"pit_stop": 2, "overtake": 3, "battle": 3}


def group_bursts(items: Sequence[T], key: Callable[[T], tuple[str, int] | None]) -> list[list[T]]:
    """Group items whose `key` (kind, lap) is shared by at least `BURST_KINDS[kind]` of them;
    keep the order otherwise (a group takes the place of its first member). `key` is None
    for an item that never groups."""
    buckets: dict[tuple[str, int], list[T]] = {}
    for it in items:
        if (k := key(it)) is not None:
            buckets.setdefault(k, []).append(it)
    out: list[list[T]] = []
    placed: set[tuple[str, int]] = set()
    for it in items:
        k = key(it)
        if k is not None and len(buckets[k]) >= BURST_KINDS[k[0]]:
            if k not in placed:
                placed.add(k)
                out.append(buckets[k])
            continue
        out.append([it])
    return out


def _bursts(out: list[Told]) -> list[Told]:
    """Several stops (passes, battles) told at the same lap become one message."""
    def key(t: Told) -> tuple[str, int] | None:
        single = not t.story and not t.window and len(t.items) == 1
        return (t.kind, t.told_lap) if single and t.kind in BURST_KINDS else None

    merged: list[Told] = []
    for group in group_bursts(out, key):
        if len(group) == 1:
            merged.append(group[0])
        else:
            items = tuple(g.items[0] for g in group)
            merged.append(Told(items=items, new=items, told_lap=group[0].told_lap))
    return merged


def posts(told: Sequence[Told]) -> list[Told]:
    """The messages a channel sees appear: a story's later chapters edit its first message."""
    seen: set[str] = set()
    out = []
    for t in told:
        if not (t.story and t.story in seen):
            out.append(t)
        if t.story:
            seen.add(t.story)
    return out


def new_messages(told: Sequence[Told]) -> int:
    return len(posts(told))


def _merge_chapters(out: list[Told]) -> list[Told]:
    """Chapters of one story told at the same lap are one message (the last one's text)."""
    merged: list[Told] = []
    last_of: dict[tuple[str, int], int] = {}
    for t in out:
        k = (t.story or "", t.told_lap)
        if t.story and k in last_of:
            i = last_of[k]
            prev = merged[i]
            merged[i] = Told(items=t.items, new=prev.new + t.new, told_lap=t.told_lap, story=t.story)
            continue
        if t.story:
            last_of[k] = len(merged)
        merged.append(t)
    return merged
