"""Stopping while kernels are being started, stopped or used: nothing half done, nothing printed at exit.

These run in processes of their own, because what goes wrong shows at interpreter shutdown: asyncio reports
tasks destroyed while pending ("Task was destroyed but it is pending!", "coroutine ... was never awaited") when
a pool's loop stops before the work handed to it is done, and a run that outlives the main thread (an
interrupted ``nbsched run --wait``, ``nbsched serve`` stopping) finds executors refusing new work.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.realtime

REPO = Path(__file__).resolve().parents[2]
NOISE = ("Task was destroyed", "never awaited", "Traceback", "could not render HTML", "Exception ignored")


def _python(script: str, tmp_path: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NBSCHED_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


POOL_SCRIPT = """
import gc, json, sys, time
from pathlib import Path
from nbsched.notebooks.kernels import KernelPool

pool = KernelPool(Path(sys.argv[1]), replace_delay=0.1)
assert pool.wait_ready("python3", 60)
used = pool.take("python3")
pool.release(used)                    # a used kernel being stopped in the background
assert pool.wait_ready("python3", 60)  # and its replacement, ready
ready = pool._ready["python3"]
pool.shutdown(wait=False)             # as `nbsched serve` does on SIGTERM
late = pool.release(used)             # a run ending after the pool was shut down
gc.collect()
finished = pool.join(30)
gc.collect()
time.sleep(0.5)
print(json.dumps({
    "finished": finished,
    "late": late is None,
    "alive": [k.km.has_kernel for k in (used, ready)],
    "ready_log_left": ready.log_path.exists(),
}))
"""


def test_a_pool_shut_down_without_waiting_finishes_what_it_was_given(tmp_path: Path) -> None:
    result = _python(POOL_SCRIPT.replace("sys.argv[1]", repr(str(tmp_path / "kernels"))), tmp_path)
    for noise in NOISE:
        assert noise not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout.splitlines()[-1])
    # the loop ended by itself once both kernels were stopped (and the ready one's log removed); a kernel
    # released after the shutdown is the caller's to stop (the run does, see execute.py)
    assert state == {"finished": True, "late": True, "alive": [False, False], "ready_log_left": False}


RUN_SCRIPT = """
import json, threading, time
from pathlib import Path
from nbsched.notebooks import Cell
from nbsched.notebooks.kernels import KernelPool
from nbsched.notebooks.outputs import warm_up

warm_up()  # as the notebook executor does when it starts: nbconvert is loaded
folder = Path("run")
folder.mkdir()
pool = KernelPool(Path("kernels"))
assert pool.wait_ready("python3", 60)
in_cell = threading.Event()

def progress(text, outputs):
    if text.startswith("cell "):
        in_cell.set()

def run():
    result = Cell("import time\\ntime.sleep(2)\\nprint('done')").run(folder, pool=pool, on_progress=progress)
    Path("result.json").write_text(json.dumps(result.outputs))

# A worker thread as the executors have (not a daemon): the interpreter waits for it at exit.
threading.Thread(target=run).start()
assert in_cell.wait(60)
pool.shutdown(wait=False)
print("main thread ends", flush=True)
"""


def test_a_run_that_outlives_the_main_thread_still_writes_its_html(tmp_path: Path) -> None:
    result = _python(RUN_SCRIPT, tmp_path)
    for noise in NOISE:
        assert noise not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr
    outputs = json.loads((tmp_path / "result.json").read_text())
    assert Path(outputs["stdout"]).read_text() == "done\n"
    assert "done" in Path(outputs["html"]).read_text()
    assert Path(outputs["kernel_log"]).is_file()
