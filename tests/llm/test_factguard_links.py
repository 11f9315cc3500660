"""The fact guard treats every link in a model's answer as a claim (issue 14, item 4)."""

from __future__ import annotations

import pytest

from bot.links import find_links
from tests.llm.conftest import MONZA_CONTEXT
from tests.llm.context_check import check

CONTEXT_WITH_URL = {**MONZA_CONTEXT, "source": "https://en.wikipedia.org/wiki/2023_Italian_Grand_Prix"}


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("Verstappen won. [Details](https://evil.example/login)", "https://evil.example/login"),
        ("Verstappen won. <https://evil.example/x|details>", "https://evil.example/x"),
        ("Verstappen won, see https://evil.example/a.", "https://evil.example/a"),
        ("Verstappen won, see www.evil.example/b", "www.evil.example/b"),
        ("Verstappen won. [x](javascript:alert)", "javascript:alert"),
        ("Verstappen won. [x](<https://evil.example/c>)", "https://evil.example/c"),
    ],
)
def test_link_not_in_context_is_unsupported(text: str, url: str) -> None:
    result = check(text, MONZA_CONTEXT)
    assert not result.ok and url in result.unsupported


@pytest.mark.parametrize(
    "text",
    [
        "Verstappen won: [report](https://en.wikipedia.org/wiki/2023_Italian_Grand_Prix)",
        "Verstappen won, see en.wikipedia.org (www.en.wikipedia.org/wiki/2023_Italian_Grand_Prix/).",
    ],
)
def test_link_from_the_context_is_supported(text: str) -> None:
    result = check(text, CONTEXT_WITH_URL)
    assert result.ok, result.unsupported


def test_the_same_host_with_another_path_is_not_enough() -> None:
    result = check("Verstappen won: https://en.wikipedia.org/wiki/Phishing", CONTEXT_WITH_URL)
    assert result.unsupported == ["https://en.wikipedia.org/wiki/Phishing"]


def test_find_links_ignores_prose() -> None:
    assert find_links("Verstappen won at 1:25.072, 3.5 s ahead (P1). No links here.") == []
