"""Season and general commands: ask, standings, schedule, next, driver, help."""

from __future__ import annotations

from typing import Literal

from bot import format as f
from bot import messages as m
from bot.app import CommandContext
from bot.errors import UserError
from bot.model import Card, CardField, Privilege, Reply
from bot.registry import Registry
from bot.resolve import resolve_driver
from bot.upcoming import aware, next_reply, season_reply, upcoming_reply


def register(registry: Registry) -> None:
    @registry.command(
        greedy="question",
        examples=("ask who won the 2023 italian grand prix?", "ask compare VER and PER pace after lap 20"),
    )
    async def ask(ctx: CommandContext, question: str) -> Reply | None:
        """Ask a question about races, drivers, tyres or standings.

        Args:
            question: your question in plain words.
        """
        conv = ctx.deps.conversation
        if conv is None:
            raise UserError(m.CANT_ANSWER)
        return await conv.handle(ctx, question)

    @registry.command(
        autocomplete={"season": "season"},
        examples=("standings", "standings constructors 2023", "standings drivers 2023 14"),
    )
    async def standings(
        ctx: CommandContext,
        kind: Literal["drivers", "constructors"] = "drivers",
        season: int | None = None,
        round: int | None = None,  # noqa: A002 - the word users type
    ) -> Reply:
        """Drivers' or constructors' championship after any round.

        Args:
            kind: drivers or constructors.
            season: the year (default: the latest we hold).
            round: after this round (default: the latest of that season).
        """
        st = await ctx.store.standings(kind, season, round)
        if st is None:
            when = f"{season or 'the latest season'}" + (f" round {round}" if round else "")
            raise UserError(m.NO_STANDINGS.format(kind=kind, when=when))
        rows = [(r.position_text or r.position, r.code if kind == "drivers" else "", r.name,
                 f.points(r.points), r.wins) for r in st.rows]
        if kind == "constructors":
            tbl = f.table(["Pos", "Team", "Pts", "Wins"], [(a, c, d, e) for a, _, c, d, e in rows])
        else:
            tbl = f.table(["Pos", "Code", "Driver", "Pts", "Wins"], rows)
        after = f"after round {st.round}" + (f" ({st.event.name})" if st.event else "")
        leader = st.rows[0]
        title = f"{st.year} {'Drivers' if kind == 'drivers' else 'Constructors'}' standings {after}"
        return Reply(text=f"Leader: **{leader.name}** with {f.points(leader.points)} points.",
                     cards=[Card(title=title, description=tbl)])

    @registry.command(autocomplete={"season": "season"}, examples=("schedule", "schedule 2023"))
    async def schedule(ctx: CommandContext, season: int | None = None) -> Reply:
        """Race weekends of a season (or the upcoming sessions).

        Args:
            season: the year (default: upcoming sessions).
        """
        now = aware(ctx.now())
        if season is None:
            return await upcoming_reply(ctx.store, now)
        return await season_reply(ctx.store, season, now)

    @registry.command("next", examples=("next",))
    async def next_(ctx: CommandContext) -> Reply:
        """The next session, with start time and countdown."""
        return await next_reply(ctx.store, ctx.now())

    @registry.command(autocomplete={"name": "driver", "season": "season"}, greedy="name",
                      examples=("driver VER", "driver checo 2023"))
    async def driver(ctx: CommandContext, name: str, season: int | None = None) -> Reply:
        """A driver's profile and season form.

        Args:
            name: code, number, surname or nickname.
            season: the season for the form (default: their latest).
        """
        d = await resolve_driver(ctx.store, name, year=season)
        year = season or await ctx.store.last_year_of_driver(d.id)
        form = await ctx.store.driver_form(d.id, year) if year else None
        fields = [CardField("Code", d.code or "—"), CardField("Number", str(d.number or "—")),
                  CardField("Nationality", d.nationality or "—")]
        if d.dob:
            fields.append(CardField("Born", d.dob.isoformat()))
        desc = ""
        if form is not None:
            st = form.standing
            fields += [CardField(f"{year} races", str(len(form.races))), CardField("Wins", str(form.wins)),
                       CardField("Podiums", str(form.podiums)),
                       CardField("Points", f.points(st.points if st else form.points))]
            if st and st.position:
                fields.append(CardField("Championship", f"P{st.position}"))
            desc = f.table(["Rd", "Grand Prix", "Grid", "Pos", "Pts"],
                           [(r.round, r.event_name.replace(" Grand Prix", ""), r.grid if r.grid is not None else "",
                             r.position_text or r.position or "", f.points(r.points)) for r in form.races[-10:]])
        return Reply(text=f"**{d.name}**", cards=[Card(title=d.name, description=desc, fields=fields)])

    @registry.command(greedy="command", examples=("help", "help compare"))
    async def help(ctx: CommandContext, command: str | None = None) -> Reply:  # noqa: A001
        """List the commands, or explain one.

        Args:
            command: a command name for details.
        """
        if command:
            cmd = registry.get(command.split()[0].removeprefix("/f1").strip() or "help")
            if cmd is None or (cmd.hidden and ctx.privilege < cmd.privilege):
                raise UserError(m.HELP_UNKNOWN.format(command=command[:40]))
            lines = [f"`/f1 {cmd.usage()}` — {cmd.summary}"]
            lines += [f"- `{p.name}`: {p.description}" for p in cmd.params]
            if cmd.examples:
                lines.append("Examples: " + ", ".join(f"`/f1 {e}`" for e in cmd.examples))
            return Reply(text="\n".join(lines), ephemeral=True)
        lines = [m.HELP_INTRO, ""]
        for cmd in sorted(registry.commands(), key=lambda c: (c.privilege, c.name)):
            if cmd.privilege > ctx.privilege and cmd.privilege > Privilege.MODERATOR:
                continue  # admin-only commands stay out of everyone's help
            extra = m.HELP_PRIVILEGE.format(privilege=cmd.privilege.name.lower()) if cmd.privilege else ""
            lines.append(f"`/f1 {cmd.usage()}` — {cmd.summary}{extra}")
        return Reply(text="\n".join(lines), ephemeral=True)
