"""A run lists only the outputs it has written: what its row shows while it runs is what a worker that dies
at that moment leaves behind (no HTML page it never rendered, no kernel log it never moved into place)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nbsched.notebooks import Notebook
from nbsched.notebooks.kernels import KernelPool

pytestmark = pytest.mark.realtime


def test_progress_lists_only_outputs_that_exist(root: Path, tmp_path: Path, pool: KernelPool) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    reported: list[tuple[str, dict[str, str]]] = []
    missing: list[tuple[str, str]] = []

    def on_progress(text: str, outputs: dict[str, str]) -> None:
        reported.append((text, dict(outputs)))
        missing.extend((text, kind) for kind, path in outputs.items() if not os.path.exists(path))

    result = Notebook("params.ipynb", output_formats=("ipynb", "html")).run(folder, pool=pool, on_progress=on_progress)
    assert [text for text, _ in reported][:2] == ["starting kernel", "cell 1/4"]
    assert missing == []
    assert {"ipynb", "stdout", "stderr"} <= set(reported[0][1])  # written (or created) before the kernel starts
    # At the end, everything is there: the page is rendered and the kernel's log moved into the run folder.
    assert set(result.outputs) == {"ipynb", "html", "stdout", "stderr", "kernel_log"}
    assert all(os.path.exists(path) for path in result.outputs.values())
