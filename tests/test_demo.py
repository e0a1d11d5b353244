"""The README's main command: ``python -m nbsched.demo`` schedules ``notebooks/report.ipynb`` and runs it, and
the report notebook itself run headless with other parameters."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from nbsched.notebooks import Notebook

pytestmark = pytest.mark.realtime

REPO = Path(__file__).resolve().parents[1]
REPORT = REPO / "notebooks" / "report.ipynb"
SALES = REPO / "notebooks" / "data" / "sales.csv"
PNG = b"\x89PNG\r\n\x1a\n"


def _summary_table(html: str) -> str:
    """The report's "Summary by month" table (pandas' rendering of ``monthly.tail(limit)``)."""
    match = re.search(r'<table[^>]*class="dataframe"[^>]*>.*?</table>', html, re.S)
    assert match, "no summary table in the report"
    table = match.group(0)
    for header in ("units", "revenue", "revenue per unit"):
        assert f"<th>{header}</th>" in table
    return table


def _months(table: str) -> list[str]:
    return re.findall(r"<th>(\d{4}-\d\d)</th>", table)


def _expected(region: str, limit: int) -> object:
    """The summary the report should show, computed here from the data without the notebook."""
    sales = pd.read_csv(SALES)
    if region != "ALL":
        sales = sales[sales.region == region]
    return sales.groupby("month")[["units", "revenue"]].sum().tail(limit)


def test_demo_runs_the_report_on_a_schedule_and_lists_each_runs_html(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "NBSCHED_HOME": str(home), "PYTHONPATH": str(REPO)}
    env.pop("NBSCHED_DB_URL", None)
    # every second: shorter than a run, so fires are skipped while one runs; the demo waits for 2 real runs
    result = subprocess.run(
        [sys.executable, "-m", "nbsched.demo", "--runs", "2", "--every", "1"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"nbsched 0.1.0: store sqlite:///{home / 'nbsched.db'}\n")
    listed = re.findall(r"^\d+\s+\d\d:\d\d:\d\d\s+(\w+)\s+[\d.]+ s\s+(\S+)$", result.stdout, re.M)
    assert [status for status, _ in listed] == ["succeeded", "succeeded"], result.stdout

    from nbsched.jobstores.sqlalchemy import SQLAlchemyJobStore
    from nbsched.runs import RunFilter, RunStatus

    store = SQLAlchemyJobStore(url=f"sqlite:///{home / 'nbsched.db'}")
    try:
        runs = [run for run in store.get_runs(RunFilter(job_id="nbsched-demo-report")) if run.status != "skipped"]
        assert store.get_all_jobs() == []  # the demo removes its job: nothing keeps firing in the store
    finally:
        store.shutdown()
    assert sorted(run.status for run in runs) == [RunStatus.SUCCEEDED, RunStatus.SUCCEEDED]
    assert sorted(run.outputs["html"] for run in runs) == sorted(path for _, path in listed)
    expected = _expected("EU", 10)
    for run in runs:
        html_path = Path(run.outputs["html"])
        assert html_path.parent == home / "runs" / "nbsched-demo-report" / run.id
        html = html_path.read_text()
        table = _summary_table(html)
        assert _months(table) == list(expected.index)
        assert "rows for region EU" in html
        assert "data:image/png;base64," in html  # the chart, embedded


def test_report_notebook_runs_headless_with_other_parameters(tmp_path: Path) -> None:
    spec = Notebook(str(REPORT), root=REPORT.parent, parameters={"region": "US", "limit": 3})
    result = spec.run(tmp_path)
    nb = nbformat.read(result.outputs["ipynb"], as_version=4)
    injected = [cell for cell in nb.cells if "injected-parameters" in cell.metadata.get("tags", [])]
    assert [cell.source for cell in injected] == ['# Parameters\nregion = "US"\nlimit = 3\n']
    outputs = [output for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs]
    expected = _expected("US", 3)
    # the summary table: the last 3 months of the US, with the units and revenue the data gives
    tables = [output.data["text/html"] for output in outputs if "text/html" in output.get("data", {})]
    assert len(tables) == 1
    table = _summary_table(tables[0])
    assert _months(table) == list(expected.index) and len(expected) == 3
    for month, row in expected.iterrows():
        cells = re.search(rf"<th>{month}</th>\s*<td>(\d+)</td>\s*<td>(\d+)</td>", table)
        assert cells and (int(cells.group(1)), int(cells.group(2))) == (row.units, row.revenue)
    # the chart: a PNG image
    images = [output.data["image/png"] for output in outputs if "image/png" in output.get("data", {})]
    assert len(images) == 1 and base64.b64decode(images[0]).startswith(PNG)
    stdout = Path(result.outputs["stdout"]).read_text()
    sales = pd.read_csv(SALES)
    assert stdout.startswith(f"{(sales.region == 'US').sum()} rows for region US\n")
    assert "Best product in US: " in stdout
    html = Path(result.outputs["html"]).read_text()
    assert _months(_summary_table(html)) == list(expected.index) and "data:image/png;base64," in html
