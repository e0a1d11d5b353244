"""Which parameter names are secret by convention (nbsched.masking)."""

from __future__ import annotations

import pytest

from nbsched.masking import is_secret_name


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("api_token", True),
        ("db_password", True),
        ("apiKey", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("adminpassword", True),
        ("credentials", True),
        ("max_tokens", False),  # a model parameter, not a secret: its value must not be scrubbed from output
        ("tokenizer", False),
        ("region", False),
    ],
)
def test_secret_names_are_judged_word_by_word(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret
