"""What a chart draws, as plain picklable data, and the one function that draws it.

Gathering (async, from the store) and drawing (sync, CPU-bound, in a worker) are
apart so the worker sees only numbers and strings: no store, no engine, no loop.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

# An opaque dark mid-grey background with light text: the PNG carries its own
# background, so it reads the same on Discord's dark theme and Slack's light one
# (a transparent image would lose its text on one of them), and every 2023 team
# colour, from Williams' light blue to Haas' grey, keeps its contrast on it.
BG = "#2b2f36"
FG = "#e6e6e6"
GRID = "#4a505a"
SOURCE = "data: FastF1 / Ergast-schema history"
WIDTH_IN, HEIGHT_IN, DPI = 16, 9, 100  # 1600x900 px

COMPOUND_COLOURS: dict[str, str] = {
    "SOFT": "#da291c", "MEDIUM": "#ffd12e", "HARD": "#f0f0ec",
    "INTERMEDIATE": "#43b02a", "WET": "#0067ad", "UNKNOWN": "#8a8a8a",
}
SHADE_COLOURS: dict[str, str] = {"SC": "#ffb000", "VSC": "#ffe08a", "Red flag": "#ff3030"}


@dataclass(frozen=True, slots=True)
class Line:
    label: str
    colour: str
    xs: tuple[float, ...]
    ys: tuple[float | None, ...]
    dashed: bool = False
    point_colours: tuple[str, ...] = ()  # one per point (tyre compound), or none
    marks: tuple[tuple[float, float], ...] = ()  # (x, y) points ringed (pit laps)
    end_label: bool = False  # write the label at the line's end (no legend entry)


@dataclass(frozen=True, slots=True)
class Bar:
    row: str  # category label on the row axis
    width: float
    colour: str
    start: float = 0.0
    text: str = ""
    edge: str | None = None
    text_inside: bool = False  # stint length in the bar, not a value after it


@dataclass(frozen=True, slots=True)
class Box:
    label: str
    colour: str
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Panel:
    title: str
    xlabel: str
    ylabel: str
    lines: tuple[Line, ...] = ()
    bars: tuple[Bar, ...] = ()  # horizontal, rows top to bottom in first-seen order
    boxes: tuple[Box, ...] = ()
    shades: tuple[tuple[float, float, str], ...] = ()  # (x from, x to, "SC" / "VSC" / "Red flag")
    legend: tuple[tuple[str, str], ...] = ()  # extra legend patches (label, colour)
    invert_y: bool = False
    ylim: tuple[float, float] | None = None
    yticks: tuple[float, ...] = ()
    xticks: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Plot:
    title: str
    panels: tuple[Panel, ...]
    footnote: str = ""


def _style(ax: object) -> None:
    ax.set_facecolor(BG)  # type: ignore[attr-defined]
    ax.tick_params(colors=FG, labelsize=12)  # type: ignore[attr-defined]
    for spine in ax.spines.values():  # type: ignore[attr-defined]
        spine.set_color(GRID)
    ax.grid(True, color=GRID, linewidth=0.6, alpha=0.8)  # type: ignore[attr-defined]
    ax.set_axisbelow(True)  # type: ignore[attr-defined]


def _draw_panel(ax: object, p: Panel) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    a = ax  # matplotlib Axes; typed loosely so stubs are not needed
    _style(a)
    if p.title:
        a.set_title(p.title, color=FG, fontsize=15, loc="left")  # type: ignore[attr-defined]
    a.set_xlabel(p.xlabel, color=FG, fontsize=13)  # type: ignore[attr-defined]
    a.set_ylabel(p.ylabel, color=FG, fontsize=13)  # type: ignore[attr-defined]
    shaded: set[str] = set()
    for x0, x1, label in p.shades:
        a.axvspan(x0 - 0.5, x1 + 0.5, color=SHADE_COLOURS.get(label, "#888888"), alpha=0.18,  # type: ignore[attr-defined]
                  linewidth=0, label=label if label not in shaded else None)
        shaded.add(label)
    for ln in p.lines:
        xs = [x for x, y in zip(ln.xs, ln.ys, strict=True) if y is not None]
        ys = [y for y in ln.ys if y is not None]
        a.plot(xs, ys, color=ln.colour, linewidth=2.4, linestyle="--" if ln.dashed else "-",  # type: ignore[attr-defined]
               label=None if ln.end_label else ln.label)
        if ln.point_colours:
            cs = [c for c, y in zip(ln.point_colours, ln.ys, strict=True) if y is not None]
            a.scatter(xs, ys, c=cs, s=26, zorder=3, edgecolors=ln.colour, linewidths=0.8)  # type: ignore[attr-defined]
        if ln.marks:
            a.scatter([m[0] for m in ln.marks], [m[1] for m in ln.marks], s=160, zorder=4,  # type: ignore[attr-defined]
                      facecolors="none", edgecolors=FG, linewidths=1.6, marker="o")
        if ln.end_label and xs:
            a.annotate(ln.label, (xs[-1], ys[-1]), xytext=(6, 0), textcoords="offset points",  # type: ignore[attr-defined]
                       color=ln.colour, fontsize=11, va="center", fontweight="bold")
    if p.bars:
        rows: list[str] = []
        for b in p.bars:
            if b.row not in rows:
                rows.append(b.row)
        idx = {r: i for i, r in enumerate(rows)}
        # One barh call for all bars: one container instead of one per bar (draw time).
        a.barh([idx[b.row] for b in p.bars], [b.width for b in p.bars],  # type: ignore[attr-defined]
               left=[b.start for b in p.bars], color=[b.colour for b in p.bars],
               edgecolor=[b.edge or BG for b in p.bars], linewidth=1.2, height=0.72)
        for b in p.bars:
            y = idx[b.row]
            if b.text:
                inside = b.text_inside
                a.text(b.start + b.width / 2 if inside else b.start + b.width, y, f" {b.text}",  # type: ignore[attr-defined]
                       va="center", ha="center" if inside else "left", fontsize=10,
                       color="#111111" if inside else FG)
        a.set_yticks(range(len(rows)), rows)  # type: ignore[attr-defined]
        a.invert_yaxis()  # type: ignore[attr-defined]
    if p.boxes:
        bp = a.boxplot([list(b.values) for b in p.boxes], patch_artist=True, widths=0.6,  # type: ignore[attr-defined]
                       medianprops={"color": FG, "linewidth": 2},
                       whiskerprops={"color": FG}, capprops={"color": FG},
                       flierprops={"markeredgecolor": FG, "markersize": 3})
        for patch, b in zip(bp["boxes"], p.boxes, strict=True):
            patch.set_facecolor(b.colour)
            patch.set_edgecolor(FG)
        a.set_xticks(range(1, len(p.boxes) + 1), [b.label for b in p.boxes])  # type: ignore[attr-defined]
    if p.ylim:
        a.set_ylim(*p.ylim)  # type: ignore[attr-defined]
    if p.yticks:
        a.set_yticks(list(p.yticks))  # type: ignore[attr-defined]
    if p.xticks:
        a.set_xticks(list(p.xticks))  # type: ignore[attr-defined]
    if p.invert_y and not p.bars:
        a.invert_yaxis()  # type: ignore[attr-defined]
    handles, labels = a.get_legend_handles_labels()  # type: ignore[attr-defined]
    handles += [Patch(color=c, label=lbl) for lbl, c in p.legend]
    if any(ln.marks for ln in p.lines):
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=12, markerfacecolor="none",
                              markeredgecolor=FG, label="Pit lap"))
    if handles:
        leg = a.legend(handles=handles, facecolor=BG, edgecolor=GRID, fontsize=11,  # type: ignore[attr-defined]
                       loc="best", ncol=2 if len(handles) > 6 else 1)
        for t in leg.get_texts():
            t.set_color(FG)


def draw(plot: Plot) -> bytes:
    """Draw `plot` as a 1600x900 PNG.

    Its own `Figure` and Agg canvas, never pyplot: pyplot keeps every figure in a
    global registry (leaks unless closed, unsafe across threads); a bare Figure is
    this call's alone and is freed with it. `clear()` in `finally` drops its artists
    at once even when drawing fails.
    """
    # matplotlib and Pillow load on the first drawing (in the worker), not at start-up: they
    # cost about a second of import that a console or `ask` run without a chart never pays.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image as PILImage

    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI, facecolor=BG)
    try:
        canvas = FigureCanvasAgg(fig)
        axes = fig.subplots(1, len(plot.panels), squeeze=False)[0]
        for ax, panel in zip(axes, plot.panels, strict=True):
            _draw_panel(ax, panel)
        fig.suptitle(plot.title, color=FG, fontsize=18, x=0.01, ha="left", fontweight="bold")
        fig.text(0.99, 0.008, SOURCE, color="#a8a8a8", fontsize=10, ha="right", va="bottom")
        if plot.footnote:
            fig.text(0.01, 0.008, plot.footnote, color="#a8a8a8", fontsize=10, ha="left", va="bottom")
        fig.subplots_adjust(left=0.07, right=0.97, top=0.9, bottom=0.09, wspace=0.18)
        # Draw once and encode the canvas ourselves: `savefig` would draw the figure a
        # second time. The image is opaque, so RGB (not RGBA) and zlib level 1: half the
        # encoding time of savefig's RGBA at level 6, for a file still ~100-250 KB.
        # Pillow is matplotlib's own dependency (it writes matplotlib's PNGs too).
        canvas.draw()
        img = PILImage.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
        buf = io.BytesIO()
        img.save(buf, format="PNG", compress_level=1)
        return buf.getvalue()
    finally:
        fig.clear()
