"""Stopping the kernels of runs: :func:`stop_kernel` for one, :func:`kill_all` for what is left at exit."""

from __future__ import annotations

import atexit
import contextlib
import logging
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nbsched.notebooks.kernelstart import StartedKernel

__all__ = ["kill_all", "stop_kernel", "track"]

_logger = logging.getLogger("nbsched.kernels")

#: every kernel this process started and has not stopped yet (killed at exit if still alive)
_live: weakref.WeakSet[Any] = weakref.WeakSet()


def track(km: Any) -> None:
    """Note a kernel manager whose kernel this process started (see :func:`kill_all`; :func:`stop_kernel`
    forgets it)."""
    _live.add(km)


async def stop_kernel(kernel: StartedKernel, now: bool = False) -> None:
    """Shut the kernel down (``now``: kill it) and release its resources; never raises."""
    km = kernel.km
    try:
        if await km.is_alive():
            await km.shutdown_kernel(now=now)
        else:
            await km.cleanup_resources()
    except Exception as exc:
        _logger.debug("Stopping kernel %s: %s", kernel.kernel_id, exc)
        with contextlib.suppress(Exception):
            await km.shutdown_kernel(now=True)
    _live.discard(km)
    with contextlib.suppress(Exception):
        km.context.term()


def kill_all() -> None:
    """Kill every kernel this process started and has not stopped yet (at exit, or when stopping for good)."""
    for km in list(_live):
        with contextlib.suppress(Exception):
            if km.provisioner is not None and km.provisioner.process is not None:
                km.provisioner.process.kill()


atexit.register(kill_all)
