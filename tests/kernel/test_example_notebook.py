"""notebooks/magics_tour.ipynb stays runnable (against a store of its own)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.realtime

TOUR = Path(__file__).parents[2] / "notebooks" / "magics_tour.ipynb"


def test_magics_tour_runs_top_to_bottom(nbsched_home: Path) -> None:
    nb = nbformat.read(TOUR, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(TOUR.parent)}}).execute()
    outputs = {
        cell.source.splitlines()[0]: cell.outputs for cell in nb.cells if cell.cell_type == "code" and cell.source
    }

    def text(first_line: str) -> str:
        return "".join(out.get("text", "") for out in outputs[first_line] if out.output_type == "stream")

    errors = [
        out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs if out.output_type == "error"
    ]
    assert errors == []
    # A UsageError is one line on stderr, without a traceback.
    assert outputs["%%schedule --every 5x"] == [
        {
            "output_type": "stream",
            "name": "stderr",
            "text": "UsageError: %%schedule: --every '5x' has an unknown unit 'x' (e.g. '5m', '1h30m', '90s')\n",
        }
    ]
    jobs = text("%jobs").splitlines()
    assert [line.split()[0] for line in jobs[1:]] == ["tour-morning", "tour-refresh", "tour-report", "tour-tick"]
    assert "every weekday at 09:00 (Europe/Paris)" in jobs[1]
    assert text("%schedule --pause tour-refresh") == "paused tour-refresh\n"
    panel = outputs["%jobs --panel"]
    assert panel[0]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
    assert text('for name in ("tour-refresh", "tour-morning", "tour-tick", "tour-report"):').splitlines() == [
        f"removed {name}" for name in ("tour-refresh", "tour-morning", "tour-tick", "tour-report")
    ]
