"""JupyterLab with the nbsched extension, driven in headless Chromium through Playwright.

The test starts ``jupyter lab`` on a free port over a temporary root holding a notebook with a ``parameters``
cell (the store and the run outputs in a temporary ``NBSCHED_HOME``), opens the notebook, schedules it through
the toolbar's "Schedule" form with a parameter changed and "run once now" (after the server refused a bad
interval, which the form shows), sees the job in the side panel and
its run reach ``succeeded``, opens the run's HTML output in a new tab and checks that it holds the notebook's
output. Screenshots go to ``tests/labextension/output/``. The user's settings (``schema/plugin.json``) set
the panel's idle refresh interval to 1 s, which the panel is seen to follow; the Settings Editor shows them, and
setting 10 s there slows the visible panel down at once.

It uses the extension as built in ``nbsched/labextension/`` (``npm run build:prod`` in ``labextension/``, or
``pip install -e .``, whose build hook runs it), served through ``LabApp.extra_labextensions_path``. It is
skipped when Chromium, JupyterLab, Playwright or the built extension is missing, unless
``NBSCHED_REQUIRE_BROWSER=1`` (CI), where it fails instead.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

REPO = Path(__file__).resolve().parents[2]
BUILT = REPO / "nbsched" / "labextension"
OUTPUT = Path(__file__).resolve().parent / "output"
EXTENSION_NAME = json.loads((REPO / "labextension" / "package.json").read_text())["name"]
TOKEN = "nbsched-browser-test-token"
PLUGIN_ID = f"{EXTENSION_NAME}:plugin"
# The user's settings of the extension: refresh every second, not every 10 s, when nothing is under way.
USER_SETTINGS = {"idleRefreshInterval": 1}
MARKER = "nbsched-browser-output"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _missing() -> str | None:
    if not shutil.which("chromium"):
        return "chromium is not installed (apt-get install chromium)"
    if importlib.util.find_spec("jupyterlab") is None:
        return "jupyterlab is not installed"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed"
    if not (BUILT / "package.json").is_file() or not (BUILT / "static").is_dir():
        return f"the extension is not built in {BUILT} (npm run build:prod in labextension/, or pip install -e .)"
    return None


def _need_everything() -> None:
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("NBSCHED_REQUIRE_BROWSER") == "1":
        pytest.fail(f"NBSCHED_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_notebook(path: Path) -> None:
    parameters = nbformat.v4.new_code_cell('greeting = "hello"\ncount = 2')
    parameters.metadata["tags"] = ["parameters"]
    cells = [
        nbformat.v4.new_markdown_cell("# Browser test report"),
        parameters,
        nbformat.v4.new_code_cell(f'print("{MARKER}:", greeting * count)'),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def _get(url: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[str]:
    """A running JupyterLab with nbsched; yields its base URL (``http://127.0.0.1:<port>/``)."""
    _need_everything()
    root = tmp_path / "root"
    root.mkdir()
    _write_notebook(root / "report.ipynb")
    config = tmp_path / "config"
    (config / "labconfig").mkdir(parents=True)
    (config / "jupyter_server_config.json").write_text(
        json.dumps({"ServerApp": {"jpserver_extensions": {"nbsched.server": True}}})
    )
    # No "receive Jupyter news?" question over the screenshots.
    (config / "labconfig" / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    extensions = tmp_path / "labextensions"
    extensions.mkdir()
    (extensions / EXTENSION_NAME).symlink_to(BUILT, target_is_directory=True)
    settings = tmp_path / "lab-settings" / EXTENSION_NAME
    settings.mkdir(parents=True)
    (settings / "plugin.jupyterlab-settings").write_text(json.dumps(USER_SETTINGS))
    home = tmp_path / "nbsched-home"
    env = {
        **os.environ,
        "NBSCHED_HOME": str(home),
        "NBSCHED_DB_URL": f"sqlite:///{home / 'nbsched.db'}",
        "JUPYTER_CONFIG_DIR": str(config),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
    }
    port = _free_port()
    base = f"http://127.0.0.1:{port}/"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
        f"--LabApp.extra_labextensions_path={extensions}",
    ]
    log_path = tmp_path / "jupyter.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    pytest.fail(f"jupyter lab exited with {server.returncode}:\n{log_path.read_text()}")
                with contextlib.suppress(OSError, urllib.error.URLError):
                    if _get(base + "nbsched/api/health")["ok"]:
                        break
                if time.monotonic() > deadline:
                    pytest.fail(f"jupyter lab did not answer within 60 s:\n{log_path.read_text()}")
                time.sleep(0.25)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
    if os.environ.get("NBSCHED_SHOW_SERVER_LOG") == "1":
        print(log_path.read_text())


def test_schedule_a_notebook_and_open_its_output(lab: str) -> None:
    from playwright.sync_api import expect, sync_playwright

    OUTPUT.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            job_lists: list[float] = []  # when the page asked for the list of jobs
            page.on(
                "request",
                lambda request: (
                    job_lists.append(time.monotonic())
                    if request.method == "GET" and request.url.split("?")[0].endswith("/nbsched/api/jobs")
                    else None
                ),
            )
            page.goto(f"{lab}lab/tree/report.ipynb?token={TOKEN}")

            # The notebook opens with the extension's toolbar button.
            button = page.locator(".jp-NotebookPanel .jp-nbsched-schedule-button")
            expect(button).to_be_visible(timeout=60_000)
            expect(page.locator(".jp-Notebook .jp-Cell").first).to_be_visible()
            button.click()

            # The form: the parameters cell's names and defaults, and the schedule.
            dialog = page.locator(".jp-Dialog")
            expect(dialog.locator(".jp-Dialog-header")).to_have_text("Schedule this notebook")
            form = dialog.locator(".jp-nbsched-form")
            expect(form.locator("input[name='parameter-greeting']")).to_have_value("hello")
            expect(form.locator("input[name='parameter-count']")).to_have_value("2")
            form.locator("input[name='name']").fill("browser report")
            form.locator("input[name='kind'][value='every']").check()
            form.locator("input[name='every']").fill("5x")
            form.locator("input[name='timezone']").fill("Europe/Paris")
            form.locator("input[name='parameter-greeting']").fill("hi ")
            form.locator("input[name='parameter-count']").fill("3")
            form.locator("input[name='runNow']").check()
            dialog.get_by_role("button", name="Schedule").click()

            # The server refuses the interval: the form comes back with its message and what was typed.
            form = page.locator(".jp-Dialog .jp-nbsched-form")
            expect(form.locator(".jp-nbsched-form-error")).to_have_text(
                "JobCreate: trigger.every '5x' has an unknown unit 'x' (e.g. '5m', '1h30m', '90s')"
            )
            expect(form.locator("input[name='parameter-greeting']")).to_have_value("hi ")
            page.screenshot(path=str(OUTPUT / "1-schedule-form-error.png"))
            form.locator("input[name='every']").fill("1h")
            page.screenshot(path=str(OUTPUT / "2-schedule-form.png"))
            dialog.get_by_role("button", name="Schedule").click()
            expect(dialog).to_have_count(0)
            # "run once now": the server's run_now reply, the sentence every face shows (this server runs jobs)
            expect(
                page.locator(".Toastify__toast", has_text="a scheduler over this store starts it shortly")
            ).to_be_visible(timeout=15_000)

            # The side panel shows the job, then its run, which succeeds.
            panel = page.locator("#nbsched-panel")
            expect(panel).to_be_visible()
            job = panel.locator(".jp-nbsched-job", has_text="browser report")
            expect(job).to_be_visible(timeout=15_000)
            expect(job.locator(".jp-nbsched-job-schedule")).to_contain_text("hour")
            expect(job.locator(".jp-nbsched-job-target")).to_have_text("report.ipynb")
            run = job.locator(".jp-nbsched-run").first
            expect(run).to_be_visible(timeout=30_000)
            expect(run).to_have_attribute("data-status", "succeeded", timeout=120_000)
            expect(job.locator(".jp-nbsched-job-line .jp-nbsched-status")).to_have_text("succeeded", timeout=15_000)
            expect(run.locator(".jp-nbsched-run-duration")).not_to_be_empty()
            page.screenshot(path=str(OUTPUT / "3-panel-run-succeeded.png"))

            # The settings: JupyterLab serves the schema with the user's values, and the panel follows them
            # (nothing is under way or due within a minute: by default it would ask again only in 10 s).
            served = _get(lab + f"lab/api/settings/{PLUGIN_ID}")
            assert served["settings"] == USER_SETTINGS
            assert {"activeRefreshInterval", "idleRefreshInterval"} <= set(served["schema"]["properties"])
            start = time.monotonic()
            while sum(1 for at in job_lists if at >= start) < 3 and time.monotonic() - start < 8:
                page.wait_for_timeout(250)
            assert sum(1 for at in job_lists if at >= start) >= 3, "the panel does not refresh every second"

            # What the form sent reached the server as typed.
            jobs = _get(lab + "nbsched/api/jobs")["jobs"]
            assert [(j["name"], j["task"]["path"], j["task"]["parameters"], j["timezone"]) for j in jobs] == [
                ("browser report", "report.ipynb", {"greeting": "hi ", "count": 3}, "Europe/Paris")
            ]

            # The HTML output opens in a new tab and holds the notebook's output.
            with context.expect_page() as new_page:
                run.locator(".jp-nbsched-output-html").click()
            output = new_page.value
            output.wait_for_load_state()
            expect(output.locator("body")).to_contain_text(f"{MARKER}: hi hi hi", timeout=15_000)
            output.screenshot(path=str(OUTPUT / "4-html-output.png"), full_page=False)
            output.close()

            # The notebook output is offered as a download.
            notebook_link = run.locator(".jp-nbsched-output-ipynb")
            expect(notebook_link).to_have_attribute(
                "href", f"{lab}nbsched/api/runs/{_run_id(run)}/output/ipynb?download=1"
            )

            # The file browser's context menu offers the same form.
            page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id='filebrowser']").click()
            page.locator(".jp-DirListing-item[data-file-type='notebook']", has_text="report.ipynb").click(
                button="right"
            )
            item = page.locator(".lm-Menu-item", has_text="Schedule Notebook…")
            expect(item).to_be_visible()
            page.screenshot(path=str(OUTPUT / "5-file-browser-menu.png"))
            item.click()
            expect(page.locator(".jp-Dialog .jp-nbsched-form-path")).to_have_text("report.ipynb")
            page.locator(".jp-Dialog").get_by_role("button", name="Cancel").click()

            # The Settings Editor lists the extension's settings, with the user's value.
            page.locator(".lm-MenuBar-item", has_text="Settings").click()
            page.locator(".lm-Menu-item", has_text="Settings Editor").click()
            page.locator(".jp-PluginList-entry", has_text="nbsched").click()
            settings_panel = page.locator(".jp-SettingsPanel")
            expect(settings_panel.get_by_text("Refresh interval otherwise (seconds)")).to_be_visible()
            expect(settings_panel.locator("input[id$='idleRefreshInterval']")).to_have_value("1")
            page.screenshot(path=str(OUTPUT / "6-settings-editor.png"))

            # A change there applies at once: back to 10 s, the visible panel stops asking every second.
            page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id='nbsched-panel']").click()
            expect(panel).to_be_visible()
            settings_panel.locator("input[id$='idleRefreshInterval']").fill("10")
            deadline = time.monotonic() + 15
            while _get(lab + f"lab/api/settings/{PLUGIN_ID}")["settings"].get("idleRefreshInterval") != 10:
                assert time.monotonic() < deadline, "the Settings Editor did not save the change"
                page.wait_for_timeout(250)
            page.wait_for_timeout(1000)  # a refresh already on its way when the setting changed
            start = time.monotonic()
            page.wait_for_timeout(5000)
            assert sum(1 for at in job_lists if at >= start) <= 1, "the panel did not follow the changed setting"

            assert not errors, errors
        finally:
            browser.close()


def _run_id(run: Any) -> str:
    run_id = run.get_attribute("data-run-id")
    assert run_id
    return str(run_id)
