"""The client nbsched connects to a run's kernel starts no heartbeat channel.

jupyter_client's heartbeat thread sets ``_running = True`` when it begins: a client stopped before that thread
got going (a run cancelled while its kernel was still connecting, on a loaded machine) leaves the thread looping
with its stop event already set, opening a new socket per turn until the process runs out of file descriptors,
and ``stop_channels`` waits for it all that time (seen as "Too many open files" and a 15 s stop of ``nbsched
serve``). nbsched asks the kernel manager whether the kernel lives, never the heartbeat, so it starts none.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from jupyter_client.channels import HBChannel
from jupyter_client.manager import AsyncKernelManager

from nbsched.notebooks.kernels import connect_client


def test_connecting_to_a_kernel_starts_no_heartbeat_thread(tmp_path: Path) -> None:
    async def connect_and_stop() -> tuple[list[threading.Thread], bool]:
        km = AsyncKernelManager(kernel_name="python3")
        await km.start_kernel(cwd=str(tmp_path))
        try:
            client, reply = await connect_client(km, 60)
            heartbeats = [thread for thread in threading.enumerate() if isinstance(thread, HBChannel)]
            alive = await client.is_alive()  # answered by the kernel manager, without a heartbeat
            client.stop_channels()
            assert reply["content"]["status"] == "ok"
            return heartbeats, alive
        finally:
            await km.shutdown_kernel(now=True)

    heartbeats, alive = asyncio.run(connect_and_stop())
    assert heartbeats == []
    assert alive
