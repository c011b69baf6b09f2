"""Printed tokens are pasted after `--token` / `--hub-token`: none may start with '-'."""

from __future__ import annotations

import pytest

from server import auth


def test_a_token_starting_with_a_dash_is_drawn_again(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = iter(["-looks-like-an-option", "_fine-token"])
    monkeypatch.setattr(auth.secrets, "token_urlsafe", lambda _n: next(drawn))
    assert auth.new_token() == "_fine-token"


def test_real_tokens_never_start_with_a_dash() -> None:
    assert not any(auth.new_token().startswith("-") for _ in range(2000))
