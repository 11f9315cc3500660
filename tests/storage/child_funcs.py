"""Module-level functions run inside the real ingest child process (picklable by name)."""

from __future__ import annotations

import os
import time


def call_exit() -> None:
    exit(3)  # what FastF1 does when it gives up offline


def hard_crash() -> None:
    os._exit(9)  # the worker dies without a word: BrokenProcessPool in the parent


def hang() -> None:
    time.sleep(60)


def answer() -> int:
    return 42
