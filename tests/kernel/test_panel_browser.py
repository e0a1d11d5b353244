"""The panel rendered by a real JupyterLab in headless Chromium: run the notebook, click Pause, see it stored.

Skipped when ``chromium`` or ``jupyter-lab`` is missing, unless ``NBSCHED_REQUIRE_BROWSER=1`` (CI) makes that
a failure. The screenshot is saved to ``tests/kernel/output/panel.png``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.realtime, pytest.mark.timeout(240)]

OUTPUT = Path(__file__).parent / "output"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _tools() -> tuple[str, str]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    lab = shutil.which("jupyter-lab") or str(Path(sys.executable).with_name("jupyter-lab"))
    missing = [
        name for name, path in (("chromium", chromium), ("jupyter-lab", lab)) if not path or not Path(path).exists()
    ]
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("playwright (pip)")
    if missing:
        if os.environ.get("NBSCHED_REQUIRE_BROWSER") == "1":
            pytest.fail(f"NBSCHED_REQUIRE_BROWSER=1 but not installed: {', '.join(missing)}")
        pytest.skip(f"not installed: {', '.join(missing)}")
    assert chromium is not None
    return chromium, lab


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


NOTEBOOK_CELLS = [
    "%load_ext nbsched",
    "%%schedule --every 1h --name nightly-prices\nprices = 1",
    "%jobs --panel",
]


@pytest.fixture
def lab(tmp_path: Path, nbsched_home: Path) -> Iterator[tuple[str, Path]]:
    chromium, lab_cmd = _tools()
    del chromium
    root = tmp_path / "lab"
    root.mkdir()
    cells = [
        {"cell_type": "code", "metadata": {}, "source": source, "outputs": [], "execution_count": None}
        for source in NOTEBOOK_CELLS
    ]
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    (root / "panel.ipynb").write_text(json.dumps(notebook))
    token = secrets.token_hex(16)
    port = _free_port()
    env = {**os.environ, "NBSCHED_HOME": str(nbsched_home), "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    log = (tmp_path / "lab.log").open("w")
    process = subprocess.Popen(
        [
            lab_cmd,
            "--allow-root",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.token={token}",
            f"--ServerApp.root_dir={root}",
            "--LabApp.news_url=",
            "--LabServerApp.workspaces_dir=" + str(tmp_path / "workspaces"),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError("jupyter lab did not start:\n" + (tmp_path / "lab.log").read_text()) from None
                time.sleep(0.3)
        yield f"{url}/lab/tree/panel.ipynb?token={token}", root
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def test_panel_in_jupyterlab_pause_button_pauses_the_job_in_the_store(
    lab: tuple[str, Path], nbsched_home: Path
) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import expect, sync_playwright

    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore

    url, _root = lab
    chromium, _ = _tools()
    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.goto(url)
            page.locator(".jp-Notebook").wait_for(timeout=60_000)
            # JupyterLab asks which kernel to start for a notebook that never ran: take the one proposed.
            select = page.locator(".jp-Dialog").get_by_role("button", name="Select", exact=True)
            with contextlib.suppress(PlaywrightTimeoutError):  # else it started one without asking
                select.click(timeout=15_000)
            expect(page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")).to_have_count(1, timeout=60_000)
            # Run > Run All Cells, as a user would.
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
            panel = page.locator(".nbsched-panel")
            try:
                panel.wait_for(timeout=60_000)
            except Exception:
                page.screenshot(path=str(OUTPUT / "panel-failure.png"), full_page=True)
                raise
            job = panel.get_by_role("button", name="nightly-prices")
            expect(job).to_be_visible(timeout=30_000)
            expect(panel).to_contain_text("every hour")
            pause = panel.get_by_role("button", name="Pause")
            expect(pause).to_be_enabled()
            # On a loaded machine the first click can land before the widget's view has wired its comm (the
            # click is then lost in the browser, before it reaches the kernel); a person would click again.
            for attempt in range(3):
                pause.click()
                try:
                    expect(panel).to_contain_text("paused nightly-prices", timeout=10_000)
                    break
                except AssertionError:
                    if attempt == 2:
                        page.screenshot(path=str(OUTPUT / "pause-failure.png"), full_page=True)  # for whoever looks
                        raise
            expect(panel.get_by_role("button", name="Resume")).to_be_enabled()
            with contextlib.suppress(PlaywrightTimeoutError):  # JupyterLab's news question would hide the panel
                page.get_by_role("button", name="No", exact=True).click(timeout=2_000)
            page.screenshot(path=str(OUTPUT / "panel.png"), full_page=True)
        finally:
            browser.close()
    store = SQLAlchemyJobStore()
    try:
        job_row = store.lookup_job("nightly-prices")
        assert job_row is not None
        assert job_row.next_run_time is None  # paused, in the shared store
    finally:
        store.shutdown()
