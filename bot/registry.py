"""One command registry for every platform.

A command is declared once with `@registry.command(...)` on a plain coroutine
`async def handler(ctx, <params>) -> Reply`. The decorator records metadata
(parameters from the annotations, help from the docstring's summary and
`Args:` section) and returns the function unchanged, so tests call it directly.

Adapters build on `Registry.commands()`: Discord makes one `/f1` group with a
typed option per `Param`; Slack and the console parse text with
`Registry.parse()`.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
import shlex
import typing
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from bot import messages
from bot.errors import UserError
from bot.model import Privilege

Handler = Callable[..., Awaitable[Any]]

# Discord is the stricter platform: check names and descriptions against it at definition time.
_NAME_RE = re.compile(r"^[a-z0-9_-]{1,32}$")
_MAX_DESCRIPTION = 100

# Autocomplete sources a parameter may name; the core serves them (see bot.autocomplete).
AUTOCOMPLETE_SOURCES = frozenset({"driver", "race", "season", "team", "kind"})

# Integer ranges. Every int option has one, so `standings drivers 999…9` or `round=-3`
# is a user error naming the range, never an overflow in the store (SQLite and
# PostgreSQL integers are 64-bit; Discord's option integers are 53-bit).
FIRST_SEASON = 1950
MAX_ROUND = 30
_DEFAULT_INT_RANGE = (0, 2**31 - 1)
_INT32 = (-(2**31), 2**31 - 1)
_DOC_RANGE = re.compile(r"\((-?\d+)\s*-\s*(-?\d+)\)")  # "(1-50)" in an `Args:` description


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    type: type  # str, int, float or bool
    description: str
    required: bool
    default: Any = None
    choices: tuple[str, ...] = ()  # from Literal[...] annotations
    autocomplete: str | None = None  # one of AUTOCOMPLETE_SOURCES
    greedy: bool = False  # takes the rest of the text (free-text race names, questions)
    # int parameters: the allowed range; max None = next year (seasons). See `bounds`.
    int_range: tuple[int, int | None] | None = None
    # False for a range documented as "(a-b)": the handler checks it in its own words
    # ("`delay` is minutes between 0 and 10080"); the registry refuses only values
    # beyond a 32-bit integer there (naming the documented range).
    range_checked_here: bool = True

    def bounds(self) -> tuple[int, int] | None:
        """(min, max) allowed for an int parameter, today; None for other types."""
        if self.int_range is None:
            return None
        low, high = self.int_range
        return low, high if high is not None else dt.datetime.now(dt.UTC).year + 1


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    handler: Handler
    summary: str
    params: tuple[Param, ...]
    privilege: Privilege = Privilege.USER
    aliases: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    hidden: bool = False

    def usage(self) -> str:
        parts = [self.name]
        for p in self.params:
            label = p.name if not p.choices else "|".join(p.choices)
            parts.append(f"<{label}>" if p.required else f"[{label}]")
        return " ".join(parts)


def _parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Summary line and `Args:` descriptions of a Google-style docstring."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    summary = lines[0].strip() if lines else ""
    args: dict[str, str] = {}
    in_args = False
    current: str | None = None
    for line in lines[1:]:
        stripped = line.strip()
        if stripped in ("Args:", "Arguments:", "Parameters:"):
            in_args = True
            continue
        if in_args:
            if stripped.endswith(":") and " " not in stripped:
                break  # next section (Returns:, Raises:)
            m = re.match(r"^(\w+)\s*(\([^)]*\))?:\s*(.*)$", stripped)
            if m and line.startswith(("    ", "\t")) and not line.startswith(("        ", "\t\t")):
                current = m.group(1)
                args[current] = m.group(3)
            elif current and stripped:
                args[current] += " " + stripped
    return summary, args


class Registry:
    """Collects commands. One instance is made at start-up and passed around."""

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}
        self._aliases: dict[str, str] = {}

    def command(
        self,
        name: str | None = None,
        *,
        privilege: Privilege = Privilege.USER,
        aliases: tuple[str, ...] = (),
        autocomplete: dict[str, str] | None = None,
        greedy: str | None = None,
        examples: tuple[str, ...] = (),
        hidden: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Register `handler` as `/f1 <name>`; returns it unchanged.

        Args:
            name: command name (default: the function name).
            privilege: the least privilege that may run it (checked in the core).
            aliases: other names accepted in typed text.
            autocomplete: parameter name -> autocomplete source.
            greedy: the parameter that takes the rest of the typed text.
            examples: example invocations shown by help.
            hidden: leave out of help listings.
        """

        def decorator(handler: Handler) -> Handler:
            cmd_name = name or handler.__name__.rstrip("_")
            self.add(
                _build_command(
                    cmd_name, handler, privilege, aliases, autocomplete or {}, greedy, examples, hidden
                )
            )
            return handler

        return decorator

    def add(self, command: Command) -> None:
        if command.name in self._commands or command.name in self._aliases:
            raise ValueError(f"command {command.name!r} registered twice")
        self._commands[command.name] = command
        for alias in command.aliases:
            self._aliases[alias] = command.name

    def get(self, name: str) -> Command | None:
        key = name.lower()
        return self._commands.get(key) or self._commands.get(self._aliases.get(key, ""))

    def commands(self, *, include_hidden: bool = False) -> list[Command]:
        return [c for c in self._commands.values() if include_hidden or not c.hidden]

    def __iter__(self) -> Iterator[Command]:
        return iter(self._commands.values())

    def __len__(self) -> int:
        return len(self._commands)

    def parse(self, text: str) -> tuple[Command, dict[str, Any]] | None:
        """Parse typed text such as `results monza 2023 session=quali`.

        Returns None when the first word is not a command (the text is then a
        free question). Raises `UserError` for a known command with bad arguments.
        """
        text = text.strip()
        if text.startswith("/f1"):
            text = text[3:].strip()
        if not text:
            return None
        try:
            tokens = shlex.split(text)
        except ValueError:
            tokens = text.split()
        cmd = self.get(tokens[0])
        if cmd is None:
            return None
        return cmd, bind_tokens(cmd, tokens[1:])


def bind_tokens(cmd: Command, tokens: list[str]) -> dict[str, Any]:
    """Bind typed tokens to a command's parameters.

    Order of binding: explicit `name=value` / `name:value`; then a token equal
    to one of a choice parameter's choices; then numbers to int parameters in
    order; the greedy parameter takes what is left (in order); otherwise the
    remaining tokens go to the remaining parameters one by one.
    """
    by_name = {p.name: p for p in cmd.params}
    bound: dict[str, Any] = {}
    rest: list[str] = []
    for tok in tokens:
        m = re.match(r"^([a-z_]+)[=:](.+)$", tok)
        if m and m.group(1) in by_name:
            bound[m.group(1)] = m.group(2)
        else:
            rest.append(tok)
    for p in cmd.params:
        if p.choices and p.name not in bound:
            for tok in rest:
                if tok.lower() in p.choices:
                    bound[p.name] = tok.lower()
                    rest.remove(tok)
                    break
    greedy = next((p for p in cmd.params if p.greedy), None)
    for p in cmd.params:
        if p.type is int and p.name not in bound and not p.greedy:
            for tok in rest:
                if re.fullmatch(r"-?\d+", tok) and (greedy is None or _int_is_not_part_of_text(p, tok)):
                    bound[p.name] = tok
                    rest.remove(tok)
                    break
    if greedy is not None and greedy.name not in bound:
        # Required parameters declared before the greedy one take the leading tokens
        # ("compare VER PER monza 2023": driver1, driver2, then the race text).
        for p in cmd.params:
            if p is greedy:
                break
            if p.required and p.name not in bound and rest:
                bound[p.name] = rest.pop(0)
        if rest:
            bound[greedy.name] = " ".join(rest)
            rest = []
    for p in cmd.params:
        if not rest:
            break
        if p.name not in bound and not p.greedy:
            bound[p.name] = rest.pop(0)
    if rest:
        raise UserError(f"Too many arguments for `{cmd.name}`. Usage: `/f1 {cmd.usage()}`")
    return coerce_args(cmd, bound)


def _int_is_not_part_of_text(param: Param, token: str) -> bool:
    # A 4-digit year beside a greedy race name belongs to the name ("monza 2023"),
    # unless the int parameter itself is a season.
    return not (len(token) == 4 and param.autocomplete != "season" and param.name != "season")


def coerce_args(cmd: Command, raw: dict[str, Any]) -> dict[str, Any]:
    """Check and convert argument values to the parameter types; fill defaults."""
    out: dict[str, Any] = {}
    by_name = {p.name: p for p in cmd.params}
    for key in raw:
        if key not in by_name:
            raise UserError(f"`{cmd.name}` has no option `{key}`. Usage: `/f1 {cmd.usage()}`")
    for p in cmd.params:
        if p.name not in raw or raw[p.name] is None or raw[p.name] == "":
            if p.required:
                raise UserError(f"`{cmd.name}` needs `{p.name}`. Usage: `/f1 {cmd.usage()}`")
            out[p.name] = p.default
            continue
        value = raw[p.name]
        bounds = p.bounds()
        if bounds is not None and isinstance(value, str) and re.fullmatch(r"\s*-?\d{13,}\s*", value):
            # Far out of any range, and int() refuses over 4,300 digits: say the range instead.
            raise UserError(messages.OUT_OF_RANGE.format(
                name=p.name, low=bounds[0], high=bounds[1], value=value.strip()[:10] + "…"))
        try:
            if p.type is bool:
                if isinstance(value, bool):
                    out[p.name] = value
                elif str(value).lower() in ("1", "true", "yes", "on"):
                    out[p.name] = True
                elif str(value).lower() in ("0", "false", "no", "off"):
                    out[p.name] = False
                else:
                    raise ValueError(value)
            else:
                out[p.name] = p.type(value)
        except (TypeError, ValueError):
            raise UserError(
                f"`{p.name}` must be {_type_word(p.type)}, not `{str(value)[:40]}`."
            ) from None
        if bounds is not None and not _within(p, bounds, out[p.name]):
            shown = str(value) if len(str(value)) <= 12 else str(value)[:10] + "…"
            raise UserError(
                messages.OUT_OF_RANGE.format(name=p.name, low=bounds[0], high=bounds[1], value=shown)
            )
        if p.choices and str(out[p.name]).lower() not in p.choices:
            raise UserError(f"`{p.name}` must be one of: {', '.join(p.choices)}.")
        if p.choices:
            out[p.name] = str(out[p.name]).lower()
    return out


def _within(p: Param, bounds: tuple[int, int], value: int) -> bool:
    if p.range_checked_here:
        return bounds[0] <= value <= bounds[1]
    return _INT32[0] <= value <= _INT32[1]


def _type_word(t: type) -> str:
    return {int: "a whole number", float: "a number", bool: "yes or no"}.get(t, "text")


def _build_command(
    name: str,
    handler: Handler,
    privilege: Privilege,
    aliases: tuple[str, ...],
    autocomplete: dict[str, str],
    greedy: str | None,
    examples: tuple[str, ...],
    hidden: bool,
) -> Command:
    if not _NAME_RE.match(name):
        raise ValueError(f"command name {name!r} is not valid on Discord")
    if not inspect.iscoroutinefunction(handler):
        raise TypeError(f"command {name!r}: handler must be `async def`")
    summary, arg_docs = _parse_docstring(handler.__doc__)
    if not summary:
        raise ValueError(f"command {name!r} needs a docstring (it is the help text)")
    if len(summary) > _MAX_DESCRIPTION:
        raise ValueError(f"command {name!r}: summary longer than {_MAX_DESCRIPTION} characters")
    hints = typing.get_type_hints(handler)
    sig = inspect.signature(handler)
    params: list[Param] = []
    for i, (pname, sp) in enumerate(sig.parameters.items()):
        if i == 0:
            continue  # the context
        if not _NAME_RE.match(pname):
            raise ValueError(f"{name}: parameter {pname!r} is not a valid option name")
        ann = hints.get(pname, str)
        ptype, choices, optional = _unwrap(ann)
        desc = arg_docs.get(pname, "")
        if not desc:
            raise ValueError(f"{name}: parameter {pname!r} has no `Args:` description")
        if len(desc) > _MAX_DESCRIPTION:
            raise ValueError(f"{name}: description of {pname!r} is over {_MAX_DESCRIPTION} chars")
        source = autocomplete.get(pname)
        if source is not None and source not in AUTOCOMPLETE_SOURCES:
            raise ValueError(f"{name}: unknown autocomplete source {source!r}")
        required = sp.default is inspect.Parameter.empty
        params.append(
            Param(
                name=pname,
                type=ptype,
                description=desc,
                required=required,
                default=None if required else sp.default,
                choices=choices,
                autocomplete=source,
                greedy=(pname == greedy),
                int_range=_int_range(pname, desc, source) if ptype is int else None,
                range_checked_here=not _DOC_RANGE.search(desc),
            )
        )
    return Command(
        name=name,
        handler=handler,
        summary=summary,
        params=tuple(params),
        privilege=privilege,
        aliases=aliases,
        examples=examples,
        hidden=hidden,
    )


def _int_range(name: str, description: str, source: str | None) -> tuple[int, int | None]:
    """The documented "(a-b)" range, else one by meaning (season, round), else 32-bit >= 0."""
    found = _DOC_RANGE.search(description)
    if found:
        return int(found.group(1)), int(found.group(2))
    if name in ("season", "year") or source == "season":
        return FIRST_SEASON, None
    if name == "round":
        return 1, MAX_ROUND
    return _DEFAULT_INT_RANGE


def _unwrap(ann: Any) -> tuple[type, tuple[str, ...], bool]:
    """(base type, Literal choices, optional) of an annotation like `Literal['a','b'] | None`."""
    optional = False
    origin = get_origin(ann)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = [a for a in get_args(ann) if a is not type(None)]
        optional = len(args) < len(get_args(ann))
        ann = args[0] if len(args) == 1 else str
        origin = get_origin(ann)
    if origin is Literal:
        choices = tuple(str(c) for c in get_args(ann))
        return str, choices, optional
    if ann in (str, int, float, bool):
        return ann, (), optional
    raise TypeError(f"unsupported parameter annotation {ann!r}")
