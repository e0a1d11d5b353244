"""Jobs and a notebook that let their secret parameters out every way they can (tests of nbsched.masking's
guarantee that nothing stored or shown afterwards holds the values)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

#: a notebook body that prints its secrets, writes them to stderr, to the kernel process's own output, in
#: HTML and as a value, writes them to ``seen`` (proof that the kernel got the real values) and fails with them
NOTEBOOK_BODY = """\
import os, sys, pathlib
from IPython.display import HTML, display
pathlib.Path(seen).write_text(api_token + "|" + region)
print(f"using {api_token} in {region}")
print(f"token {api_token} region {region}", file=sys.stderr)
os.system(f"echo kernel-level {api_token} {region}")
sys.__stderr__.write(f"process-level {api_token}\\n"); sys.__stderr__.flush()
display(HTML(f"<b>{api_token}</b> {region}"))
display({"token": api_token})
"""
FAILING_CELL = 'raise ValueError(f"cannot log in with {api_token} for {region}")'


def leaky_notebook(folder: Path, name: str = "leaky.ipynb") -> Path:
    """A notebook with a ``parameters`` cell (``api_token``: secret by its name; ``region``, ``seen``), the body
    above, then a cell that fails with both values."""
    import nbformat

    parameters = nbformat.v4.new_code_cell('api_token = ""\nregion = "EU"\nseen = ""')
    parameters.metadata["tags"] = ["parameters"]
    cells = [parameters, nbformat.v4.new_code_cell(NOTEBOOK_BODY), nbformat.v4.new_code_cell(FAILING_CELL)]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(nb, str(path))
    return path


def fail_with(message: str) -> None:
    """Print ``message``, write it to stderr, then fail with it (in a chained exception, so the traceback holds
    it twice)."""
    print(f"printing {message}", flush=True)
    print(f"stderr {message}", file=sys.stderr, flush=True)
    try:
        raise KeyError(message)
    except KeyError as exc:
        raise RuntimeError(f"login with {message} refused") from exc


def login(password: str, user: str = "ada") -> None:
    """``password`` is secret by its name."""
    fail_with(password)


def files_holding(folder: Path, *values: str) -> dict[str, list[str]]:
    """Every file under ``folder`` (its path relative to it) that holds one of ``values``, with which."""
    found: dict[str, list[str]] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            hits = [value for value in values if value.encode() in data]
            if hits:
                found[str(path.relative_to(folder))] = hits
    return found


def holding(text: Any, *values: str) -> list[str]:
    """Which of ``values`` are in ``text`` (a string, or anything JSON-like, searched as its ``repr``)."""
    text = text if isinstance(text, str) else repr(text)
    return [value for value in values if value in text]
