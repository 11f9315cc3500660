"""Chart images on the console and in `slipstream ask`: PNG files in `--out-dir` (default a
fresh temp dir), their paths in the reply text and in `ask --json`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import typer  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from adapters.console.chat import ConsoleSession  # noqa: E402
from adapters.console.files import ImageSaver  # noqa: E402
from bot.model import Card, Image, Reply  # noqa: E402
from bot.registry import Registry  # noqa: E402
from slipstream import cli_chat  # noqa: E402
from tests.discord.conftest import make_dispatcher  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ALT = "Lap times of VER and LEC at Monza 2023"


def tiny_png() -> bytes:
    """A real PNG drawn by matplotlib (what the chart code will hand over)."""
    fig, ax = plt.subplots(figsize=(1, 1), dpi=20)
    try:
        ax.plot([1, 2, 3], [3, 1, 2])
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
    finally:
        plt.close(fig)
    return buf.getvalue()


def _registry(png: bytes) -> Registry:
    reg = Registry()

    @reg.command()
    async def chartdemo(ctx: object) -> Reply:
        """A reply with a chart (test-only command)."""
        return Reply(text="Lap times at Monza 2023", cards=[Card(title="VER vs LEC")],
                     images=[Image("laptimes.png", png, ALT)], suggestions=["gaps at monza 2023"])

    return reg


async def test_console_writes_the_png_into_out_dir_and_prints_its_path(tmp_path: Path) -> None:
    png = tiny_png()
    out: list[str] = []
    charts = tmp_path / "charts"
    session = ConsoleSession(make_dispatcher(tmp_path, _registry(png)), write=out.append,
                             conversation=False, out_dir=charts)
    text = await session.send("/f1 chartdemo")
    path = (charts / "laptimes.png").resolve()
    assert path.read_bytes() == png and path.read_bytes().startswith(PNG_SIGNATURE)
    assert f"[chart: {path} — {ALT}]" in text and out == [text]
    await session.send("/f1 chartdemo")  # a second chart of the run does not overwrite the first
    assert (charts / "laptimes-2.png").read_bytes() == png


async def test_default_out_dir_is_a_new_temp_dir_made_only_for_a_chart(tmp_path: Path) -> None:
    saver = ImageSaver()
    path = saver.save(Image("../weird name", b"png-bytes", "x"))
    assert path.parent.name.startswith("slipstream-") and path.name == "weird_name.png"
    assert path.read_bytes() == b"png-bytes"
    assert ImageSaver().out_dir != saver.out_dir  # one fresh dir per run


async def test_ask_json_lists_the_written_image(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.settings import Settings
    from slipstream.wiring import build_app

    png = tiny_png()
    app = build_app(Settings(database_url=demo_url))
    for cmd in _registry(png).commands():
        app.registry.add(cmd)
    out_dir = tmp_path / "out"
    await cli_chat._ask("/f1 chartdemo", False, "plain", as_json=True, out_dir=out_dir, app=app)
    out = json.loads(capsys.readouterr().out)
    (image,) = out["images"]
    assert image == {"path": str((out_dir / "laptimes.png").resolve()), "alt": ALT, "filename": "laptimes.png"}
    assert _bytes(image["path"]) == png
    assert out["text"] == "Lap times at Monza 2023" and out["cards"][0]["title"] == "VER vs LEC"
    assert out["suggestions"] == ["gaps at monza 2023"] and out["ephemeral"] is False
    assert out["command"]["name"] == "chartdemo" and image["path"] in out["reply"]


def test_ask_takes_out_dir_and_json_on_the_command_line(
    demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", demo_url)
    monkeypatch.delenv("LLM_BASE_URL", raising=False)
    app = typer.Typer()
    cli_chat.register(app)
    res = CliRunner().invoke(app, ["ask", "--json", "--out-dir", str(tmp_path / "o"), "who won at monza 2023"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["images"] == [] and "Verstappen" in out["text"]
    assert not (tmp_path / "o").exists()  # no chart, no files
    res = CliRunner().invoke(app, ["chat", "--out-dir", str(tmp_path / "o")], input="quit\n")
    assert res.exit_code == 0, res.output


def _bytes(path: str) -> bytes:
    return Path(path).read_bytes()
