"""Kernels for notebook runs: started fresh for every run, ahead of time when possible.

:class:`KernelPool` keeps one freshly started kernel ready per kernel name in use, so a due run connects to a
kernel that is already up instead of waiting a second or two for one to start. A kernel serves exactly one run
and is shut down after it (in the background, off the run's critical path); the pool then starts the next one.
A kernel name nobody took for ``idle_timeout`` seconds loses its ready kernel. Warm kernels start in a neutral
folder and are moved to the run's working folder before the first cell, which needs a Python kernel: other
languages start cold, in their working folder.

Kernel managers are :class:`jupyter_client.AsyncKernelManager`; the pool's own event loop (one daemon thread)
starts and stops them, while each run talks to its kernel from its own thread and loop through a fresh client.

The pieces below the pool live in modules of their own: :mod:`~nbsched.notebooks.kernelspecs` (installed
kernel names), :mod:`~nbsched.notebooks.kernelstart` (start and connect) and :mod:`~nbsched.notebooks.kernelstop`
(stop, and kill at exit). Their public names are importable from here too, as they were before the split.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from nbsched.notebooks.kernelspecs import check_kernel_name, installed_kernels, kernel_language, unknown_kernel_error
from nbsched.notebooks.kernelstart import StartedKernel, change_directory, connect_client, start_kernel
from nbsched.notebooks.kernelstop import stop_kernel

__all__ = [
    "KernelPool",
    "StartedKernel",
    "change_directory",
    "check_kernel_name",
    "connect_client",
    "installed_kernels",
    "kernel_language",
    "start_kernel",
    "stop_kernel",
    "unknown_kernel_error",
]

_logger = logging.getLogger("nbsched.kernels")


class KernelPool:
    """One ready kernel per kernel name in use; kernels are never reused.

    When a run takes the ready kernel, the one that replaces it starts when that run's kernel is released (the
    run is over), or ``replace_delay`` seconds after the take, or as soon as another run asks for one, whichever
    comes first: starting a kernel costs about a second of CPU, which a short run would otherwise have to share.

    :param home: folder warm kernels start in and keep their logs in until a run takes them
    :param warm: keep kernels ready (``False``: every run starts its kernel itself)
    :param idle_timeout: seconds after the last use of a kernel name before its ready kernel is shut down
    :param startup_timeout: seconds a kernel may take to start
    :param replace_delay: longest wait, in seconds, before a taken kernel's replacement starts
    """

    def __init__(
        self,
        home: Path,
        *,
        warm: bool = True,
        idle_timeout: float = 600.0,
        startup_timeout: float = 60.0,
        replace_delay: float = 2.0,
    ) -> None:
        self.home = home
        self.warm = warm
        self.idle_timeout = idle_timeout
        self.startup_timeout = startup_timeout
        self.replace_delay = replace_delay
        self._lock = threading.RLock()
        self._ready: dict[str, StartedKernel] = {}
        self._starting: dict[str, concurrent.futures.Future[StartedKernel]] = {}
        #: kernel names whose replacement kernel is to start (at the latest when their timer fires)
        self._deferred: set[str] = set()
        self._shrink_timer: asyncio.TimerHandle | None = None  # on the service loop
        self._last_used: dict[str, float] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        self._pending: set[concurrent.futures.Future[Any]] = set()
        #: the service loop's last work, once shutdown() has queued it
        self._drained: concurrent.futures.Future[None] | None = None
        #: kernels started by this pool (counter, for tests and benchmarks)
        self.started_count = 0

    # ------------------------------------------------------------------------------------------ service loop
    def _submit(self, coro: Any) -> concurrent.futures.Future[Any]:
        """Run ``coro`` on the service loop, tracked so that :meth:`shutdown` finishes it (call with the lock
        held, and only while the pool is open or from :meth:`shutdown`: once the loop is drained, nothing may be
        handed to it)."""
        future = asyncio.run_coroutine_threadsafe(coro, self._service_loop_unlocked())
        self._pending.add(future)
        # The lock is reentrant: a future already done runs this callback at once, in this thread.
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._pending.discard(future)

    # ---------------------------------------------------------------------------------------------- public
    def can_warm(self, kernel_name: str) -> bool:
        """Whether kernels of this name can be started ahead (installed and Python)."""
        return self.warm and kernel_language(kernel_name) == "python"

    def prepare(self, kernel_name: str) -> None:
        """Note that ``kernel_name`` is in use and start a kernel for it if none is ready or starting."""
        if not self.can_warm(kernel_name):
            return
        with self._lock:
            if self._closed:
                return
            self._last_used[kernel_name] = time.monotonic()
            self._deferred.discard(kernel_name)
            if kernel_name in self._ready or kernel_name in self._starting:
                return
            self.home.mkdir(mode=0o700, parents=True, exist_ok=True)
            self._starting[kernel_name] = self._submit(self._warm_one(kernel_name))

    def _service_loop_unlocked(self) -> asyncio.AbstractEventLoop:
        # Called with the lock held.
        if self._loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=_serve, args=(loop,), name="nbsched-kernels", daemon=True)
            thread.start()
            self._loop, self._thread = loop, thread
            _pools.add(self)
        return self._loop

    async def _warm_one(self, kernel_name: str) -> StartedKernel:
        try:
            kernel = await start_kernel(
                kernel_name, cwd=self.home, log_dir=self.home, startup_timeout=self.startup_timeout, warm=True
            )
        except BaseException as exc:
            with self._lock:
                self._starting.pop(kernel_name, None)
            _logger.warning("Could not start a %s kernel ahead of time: %s", kernel_name, exc)
            raise
        with self._lock:
            self._starting.pop(kernel_name, None)
            self.started_count += 1
            if self._closed or kernel_name not in self._last_used:
                keep = False
            else:
                keep = True
                self._ready[kernel_name] = kernel
        if not keep:
            await stop_kernel(kernel, now=True)
        else:
            self._arm_shrink(self.idle_timeout + 0.5)
        return kernel

    def take(self, kernel_name: str, wait: float = 0.0) -> StartedKernel | None:
        """The ready kernel of this name, now belonging to the caller; a fresh one will start in its place
        (see the class: when the caller releases it, after ``replace_delay``, or when another run asks).

        :param wait: seconds to wait for a kernel that is being started (``0``: only an already ready one)
        :return: ``None`` when none is ready (the caller starts its own)
        """
        if not self.can_warm(kernel_name):
            return None
        with self._lock:
            kernel = self._ready.pop(kernel_name, None)
            deferred = kernel_name in self._deferred
            self._last_used[kernel_name] = time.monotonic()
        if kernel is None:
            if deferred:
                self.prepare(kernel_name)  # another run wants one: the deferred replacement starts now
            with self._lock:
                starting = self._starting.get(kernel_name)
            if starting is not None and wait > 0:
                with contextlib.suppress(Exception):
                    starting.result(wait)
                with self._lock:
                    kernel = self._ready.pop(kernel_name, None)
        self._replace_later(kernel_name)
        return kernel

    def _replace_later(self, kernel_name: str) -> None:
        """Start the next kernel of this name ``replace_delay`` seconds from now, unless something starts it first."""
        with self._lock:
            if self._closed or kernel_name in self._deferred:
                return
            self._deferred.add(kernel_name)
            loop = self._service_loop_unlocked()
        # A timer left over from an earlier take may start it sooner: never later than replace_delay.
        with contextlib.suppress(RuntimeError):  # the pool shut down meanwhile: no replacement is wanted
            loop.call_soon_threadsafe(loop.call_later, self.replace_delay, self._start_deferred, kernel_name)

    def _start_deferred(self, kernel_name: str) -> None:
        with self._lock:
            due = kernel_name in self._deferred
        if due:
            self.prepare(kernel_name)

    def wait_ready(self, kernel_name: str, timeout: float) -> bool:
        """Wait until a kernel of this name is ready (starting one if needed); whether one is."""
        self.prepare(kernel_name)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if kernel_name in self._ready:
                    return True
                starting = self._starting.get(kernel_name)
            if starting is None:
                return False
            with contextlib.suppress(Exception):
                starting.result(max(deadline - time.monotonic(), 0))
        return False

    def release(self, kernel: StartedKernel, now: bool = False) -> concurrent.futures.Future[Any] | None:
        """Shut a used kernel down in the background (it is never handed out again); its run is over, so the
        replacement it was taken for starts now if it has not yet.

        :return: the stop in progress, or ``None`` when the pool is shut down: then the caller stops the kernel
            itself (:func:`stop_kernel`), as the pool's loop may already be gone
        """
        with self._lock:
            if self._closed:
                return None
            future = self._submit(stop_kernel(kernel, now=now))
            deferred = kernel.kernel_name in self._deferred
        if deferred:
            self.prepare(kernel.kernel_name)
        return future

    def ready_names(self) -> list[str]:
        with self._lock:
            return sorted(self._ready)

    def _arm_shrink(self, delay: float) -> None:
        # On the service loop: one timer, at the earliest time asked for.
        loop = self._loop
        if loop is None or self._closed:
            return
        timer = self._shrink_timer
        if timer is not None and timer.when() <= loop.time() + delay:
            return
        if timer is not None:
            timer.cancel()
        self._shrink_timer = loop.call_later(delay, self._shrink)

    def _shrink(self) -> None:
        # On the service loop: drop ready kernels of names unused for idle_timeout; look again when the next
        # ready kernel's name would be idle (a name used since its kernel started is idle later than planned).
        now = time.monotonic()
        with self._lock:
            self._shrink_timer = None
            if self._closed:
                return  # shutdown() took the ready kernels
            for name, last in list(self._last_used.items()):
                if now - last >= self.idle_timeout:
                    del self._last_used[name]
                    kernel = self._ready.pop(name, None)
                    if kernel is not None:
                        _logger.debug("Kernel name %s idle: shutting down its ready kernel", name)
                        # Submitted with the lock held, so that a shutdown() now finishes it too.
                        self._submit(self._stop_and_clean(kernel))
            pending = [self._last_used[name] for name in self._ready if name in self._last_used]
        if pending:
            self._arm_shrink(min(pending) + self.idle_timeout - now + 0.5)

    async def _stop_and_clean(self, kernel: StartedKernel) -> None:
        await stop_kernel(kernel, now=True)
        if kernel.log_path is not None:
            kernel.log_path.unlink(missing_ok=True)

    def shutdown(self, wait: bool = True) -> None:
        """Stop every ready kernel, finish everything handed to the service loop (kernels being started or
        stopped), then end the loop and its thread.

        ``wait=False`` returns at once and lets the loop finish in the background; it still finishes all of it
        before it stops (and the process waits for that at exit), so no kernel is left running and no stop is
        left half done. Kernels released after this are stopped by their runs (see :meth:`release`).
        """
        with self._lock:
            if not self._closed:
                self._closed = True
                self._deferred.clear()
                ready = list(self._ready.values())
                self._ready.clear()
                self._last_used.clear()
                if self._loop is not None:
                    for kernel in ready:
                        self._submit(self._stop_and_clean(kernel))
                    # Queued after everything submitted so far (the pool is closed: nothing comes after it).
                    self._drained = asyncio.run_coroutine_threadsafe(self._drain(), self._loop)
            drained, thread = self._drained, self._thread
        if not wait or drained is None:
            return
        with contextlib.suppress(Exception):
            drained.result(self.startup_timeout + 10)
        if thread is not None:
            thread.join(10)

    async def _drain(self) -> None:
        # The service loop's last work: wait for what it was given, then stop (``_serve`` closes the loop).
        if self._shrink_timer is not None:
            self._shrink_timer.cancel()
            self._shrink_timer = None
        while True:
            with self._lock:
                pending = list(self._pending)
            if not pending:
                break
            # return_exceptions: their errors were logged where they happened; retrieved here, never reported
            # again as "exception was never retrieved"
            await asyncio.gather(*(asyncio.wrap_future(future) for future in pending), return_exceptions=True)
        loop = asyncio.get_running_loop()
        loop.call_soon(loop.stop)  # after this task's result has reached shutdown()'s future

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a shut-down pool's loop to finish its work and end; whether it has
        (``False`` for a pool that is not shut down and still has its loop)."""
        with self._lock:
            thread = self._thread
            closed = self._closed
        if thread is None:
            return True
        if closed:
            thread.join(timeout)
        return not thread.is_alive()


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    """A pool's service thread: its loop runs until the pool's drain stops it, and is closed with nothing left
    pending (a task destroyed while pending is what asyncio reports as "Task was destroyed but it is pending")."""
    asyncio.set_event_loop(loop)
    try:
        loop.run_forever()
    finally:
        try:
            leftovers = asyncio.all_tasks(loop)
            for task in leftovers:
                task.cancel()
            if leftovers:
                loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


#: the pools whose service loop was started (shut-down ones are waited for at exit)
_pools: weakref.WeakSet[KernelPool] = weakref.WeakSet()

#: longest wait at exit, in seconds, for shut-down pools to finish stopping their kernels
EXIT_WAIT = 10.0


def _finish_pools_at_exit() -> None:
    # A pool shut down with wait=False (``nbsched serve`` on SIGTERM, ``nbsched run --wait`` interrupted) may
    # still be stopping kernels: let it finish, within bounds, before the interpreter tears everything down.
    deadline = time.monotonic() + EXIT_WAIT
    for pool in list(_pools):
        with contextlib.suppress(Exception):
            pool.join(max(deadline - time.monotonic(), 0))


# Registered after _kill_all_at_exit, so it runs before it (atexit runs last in, first out): kernels are stopped
# properly first, and only what is still alive after that is killed.
atexit.register(_finish_pools_at_exit)
