"""APScheduler 3's job store base module: the :class:`~nbsched.abc.JobStore` contract under its old names."""

from __future__ import annotations

from nbsched.abc import JobStore
from nbsched.exceptions import ConflictingIdError, JobLookupError, TransientJobError

__all__ = ["BaseJobStore", "ConflictingIdError", "JobLookupError", "TransientJobError"]

BaseJobStore = JobStore
