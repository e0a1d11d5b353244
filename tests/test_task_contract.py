"""Only the task classes look at a task's fields: everything else goes through the ``nbsched.abc.Task`` contract
(``summary()``, ``describe()``, ``to_dict()``, ``run()``...), so a third-party task kind is shown, masked and run
like a built-in one."""

from __future__ import annotations

import ast
from pathlib import Path

NBSCHED = Path(__file__).resolve().parent.parent / "nbsched"
#: where a task's own fields are read: the task classes
TASK_MODULES = {NBSCHED / "tasks.py", *(NBSCHED / "notebooks").glob("*.py")}
#: task fields that were read by duck typing (getattr/hasattr) before the Task contract
TASK_FIELDS = {
    "task_type",
    "path",
    "parameters",
    "secret_parameters",
    "kernel_for_warming",
    "default_executor",
    "run",
    "retry_on_timeout",
}


def _duck_typing(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "hasattr")
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in TASK_FIELDS
        ):
            found.append(
                f"{path.relative_to(NBSCHED.parent)}:{node.lineno}: {node.func.id}(..., {node.args[1].value!r})"
            )
    return found


def test_no_module_but_the_task_classes_reads_task_fields_by_getattr() -> None:
    found = [hit for path in sorted(NBSCHED.rglob("*.py")) if path not in TASK_MODULES for hit in _duck_typing(path)]
    assert found == []
