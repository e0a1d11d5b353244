"""Starting a kernel for one run and connecting to it: :func:`start_kernel`, :func:`connect_client`.

Kernel managers are :class:`jupyter_client.AsyncKernelManager`; every kernel started here is tracked by
:mod:`nbsched.notebooks.kernelstop`, which stops it (and kills what is left at exit).
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from queue import Empty
from typing import Any
from uuid import uuid4

from nbsched.exceptions import KernelStartError
from nbsched.notebooks.kernelstop import stop_kernel, track

__all__ = ["StartedKernel", "change_directory", "connect_client", "start_kernel"]


class StartedKernel:
    """A kernel process started for one run.

    :ivar km: its :class:`jupyter_client.AsyncKernelManager`
    :ivar kernel_name: the kernelspec name
    :ivar kernel_id: a unique id (also the name of its log file)
    :ivar log_path: where the kernel process's own stdout/stderr go
    :ivar warm: started ahead of time by a pool (its working folder still has to be set)
    :ivar started: ``time.monotonic()`` when it became ready
    """

    def __init__(self, km: Any, kernel_name: str, kernel_id: str, log_path: Path | None, warm: bool) -> None:
        self.km = km
        self.kernel_name = kernel_name
        self.kernel_id = kernel_id
        self.log_path = log_path
        self.warm = warm
        self.started = time.monotonic()

    def __repr__(self) -> str:
        return f"<StartedKernel {self.kernel_name} {self.kernel_id}{' warm' if self.warm else ''}>"


def _new_manager(kernel_name: str) -> Any:
    import zmq
    from jupyter_client.manager import AsyncKernelManager

    # CurveZMQ keys when the kernel supports them: no plain-text TCP traffic (and no warning from ipykernel).
    encryption = "auto" if zmq.has("curve") else "disabled"
    return AsyncKernelManager(kernel_name=kernel_name, transport_encryption=encryption)


async def start_kernel(
    kernel_name: str, *, cwd: Path, log_dir: Path | None, startup_timeout: float, warm: bool = False
) -> StartedKernel:
    """Start a kernel and wait until it answers.

    :raises RuntimeError: when it does not answer within ``startup_timeout`` seconds or dies while starting
    """
    km = _new_manager(kernel_name)
    kernel_id = uuid4().hex
    extra: list[str] = []
    if getattr(km, "ipykernel", False):
        extra.append("--HistoryManager.hist_file=:memory:")  # no history database shared between runs
    log_path = log_dir / f"{kernel_id}.log" if log_dir is not None else None
    kwargs: dict[str, Any] = {"cwd": str(cwd), "extra_arguments": extra}
    log_file = None
    if log_path is not None:
        log_file = os.fdopen(os.open(log_path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600), "ab")
        kwargs["stdout"] = kwargs["stderr"] = log_file
    try:
        await km.start_kernel(**kwargs)
    finally:
        if log_file is not None:
            log_file.close()  # the kernel process holds its own copy of the descriptor
    started = StartedKernel(km, kernel_name, kernel_id, log_path, warm)
    track(km)
    try:
        client, _ = await connect_client(km, startup_timeout)
        client.stop_channels()
    except BaseException:
        await stop_kernel(started, now=True)
        raise
    started.started = time.monotonic()
    return started


async def connect_client(km: Any, timeout: float) -> tuple[Any, dict[str, Any]]:
    """A started :class:`~jupyter_client.asynchronous.AsyncKernelClient` of ``km`` that has answered
    ``kernel_info`` on shell and is receiving IOPub; also returns the ``kernel_info_reply``.

    Like ``wait_for_ready`` but without its fixed 0.2 s wait when IOPub is already live.
    """
    client = km.client()
    # No heartbeat channel: whether the kernel lives is asked of ``km``. Its thread, stopped before it got going
    # (a run cancelled while connecting), would loop opening sockets until the process has no descriptors left.
    client.start_channels(hb=False)
    deadline = time.monotonic() + timeout
    try:
        while True:
            msg_id = client.kernel_info()
            reply = await _shell_reply(client, msg_id, 1.0)
            if reply is not None:
                # IOPub subscriptions connect late (zmq "slow joiner"): wait for the welcome or the status message.
                with contextlib.suppress(Empty, TimeoutError):
                    await client.get_iopub_msg(timeout=0.5)
                    return client, reply
            if not await km.is_alive():
                raise KernelStartError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise KernelStartError(f"Kernel didn't respond in {timeout:g} seconds")
    except BaseException:
        client.stop_channels()
        raise


async def _shell_reply(client: Any, msg_id: str, timeout: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            msg: dict[str, Any] = await client.get_shell_msg(timeout=remaining)
        except (Empty, TimeoutError):
            return None
        if msg.get("parent_header", {}).get("msg_id") == msg_id:
            return msg


async def change_directory(client: Any, cwd: Path, timeout: float) -> None:
    """Move a (Python) kernel to ``cwd`` without leaving a trace in its namespace or history."""
    msg_id = client.execute(f"__import__('os').chdir({str(cwd)!r})", silent=True, store_history=False)
    reply = await _shell_reply(client, msg_id, timeout)
    if reply is None or reply["content"].get("status") != "ok":
        raise KernelStartError(f"could not change the kernel's working folder to {cwd}")
