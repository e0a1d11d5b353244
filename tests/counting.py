"""Count calls instead of timing them: a bound on work is a claim a loaded machine cannot make flaky."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest


def count_calls(monkeypatch: pytest.MonkeyPatch, owner: Any, *names: str) -> Counter[str]:
    """Wrap ``owner``'s attributes ``names`` (methods of a class, functions of a module, ...) to count their calls.

    :return: a counter, by name, that the wrappers update for as long as ``monkeypatch`` holds them
    """
    calls: Counter[str] = Counter()
    for name in names:
        original = getattr(owner, name)

        def counted(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counted)
    return calls
