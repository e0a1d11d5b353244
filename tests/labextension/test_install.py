"""``pip install`` is all a user does: the installed package brings the JupyterLab extension and enables the
Jupyter server extension (``pyproject.toml``'s shared-data, filled by the jupyter-builder hook at build time).

These ask Jupyter itself, in this environment, with no extra paths or configuration of the test's own. They are
skipped where JupyterLab is not installed or this environment's nbsched was installed without the built
extension (no Node.js at install time), unless ``NBSCHED_REQUIRE_BROWSER=1`` (CI), where they fail instead.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
NAME = json.loads((REPO / "labextension" / "package.json").read_text())["name"]
INSTALLED = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / NAME
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _jupyter(*args: str) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("JUPYTER")}
    done = subprocess.run(
        [sys.executable, "-m", "jupyter", *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )
    return _ANSI.sub("", done.stdout + done.stderr)


@pytest.fixture(autouse=True)
def _installed() -> None:
    reason = None
    if importlib.util.find_spec("jupyterlab") is None:
        reason = "jupyterlab is not installed"
    elif not (INSTALLED / "package.json").is_file():
        reason = f"this environment's nbsched was installed without the built extension ({INSTALLED})"
    if reason is None:
        return
    if os.environ.get("NBSCHED_REQUIRE_BROWSER") == "1":
        pytest.fail(f"NBSCHED_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def test_the_lab_extension_is_installed_and_enabled() -> None:
    version = json.loads((REPO / "labextension" / "package.json").read_text())["version"]
    assert re.search(
        rf"{re.escape(NAME)} v{re.escape(version)} enabled\s+OK \(python, nbsched\)", _jupyter("labextension", "list")
    )


def test_the_server_extension_is_enabled() -> None:
    listing = _jupyter("server", "extension", "list")
    assert re.search(r"nbsched\.server\s+enabled", listing), listing
    assert re.search(r"nbsched\.server\s+OK", listing), listing
