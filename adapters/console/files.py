"""Images of console replies as PNG files: a terminal cannot show a chart, a path can be opened."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from bot.model import Image

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class ImageSaver:
    """Writes reply images into one directory: `out_dir`, or a fresh temp dir made on the first
    image (so a run without charts leaves nothing behind). Names never overwrite each other:
    a second `laptimes.png` of the same run becomes `laptimes-2.png`."""

    def __init__(self, out_dir: Path | str | None = None) -> None:
        self._out_dir = Path(out_dir).expanduser() if out_dir is not None else None
        self._taken: set[str] = set()

    @property
    def out_dir(self) -> Path:
        """The directory images go to (created on first use)."""
        if self._out_dir is None:
            self._out_dir = Path(tempfile.mkdtemp(prefix="slipstream-"))
        self._out_dir.mkdir(parents=True, exist_ok=True)
        return self._out_dir

    def save(self, image: Image) -> Path:
        """Write `image` and return its absolute path."""
        name = _UNSAFE.sub("_", Path(image.filename).name).strip("._") or "image"
        if not name.lower().endswith(".png"):
            name += ".png"
        stem, ext = name[: -len(".png")], name[-len(".png"):]
        candidate, n = name, 1
        directory = self.out_dir
        while candidate in self._taken or (directory / candidate).exists():
            n += 1
            candidate = f"{stem}-{n}{ext}"
        self._taken.add(candidate)
        path = (directory / candidate).resolve()
        path.write_bytes(image.data)
        return path
