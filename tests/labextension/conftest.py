"""The JupyterLab extension's tests: the generated REST shapes of ``api.ts``, and a real-browser test."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "browser: drives JupyterLab in headless Chromium (skipped without chromium, jupyterlab, playwright or the "
        "built extension, unless NBSCHED_REQUIRE_BROWSER=1)",
    )
