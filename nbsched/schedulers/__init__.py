"""Schedulers: one core (:mod:`nbsched.schedulers.base`) and thin blocking, background and asyncio flavours."""

from nbsched.exceptions import SchedulerAlreadyRunningError, SchedulerNotRunningError

__all__ = ["SchedulerAlreadyRunningError", "SchedulerNotRunningError"]
