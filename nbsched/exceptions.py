"""The one error tree of nbsched.

Every error nbsched raises on purpose derives from :class:`NbschedError`. Leaves also derive from the builtin
they resemble, so code written for APScheduler 3 (which raises ``ValueError``, ``TypeError``, ``KeyError`` and
``LookupError``) keeps catching them::

    NbschedError
    ├── InvalidArgumentError (ValueError, TypeError)    "<Owner>: <field> <value!r> <problem>"
    │   ├── TriggerArgumentError                        bad trigger argument
    │   ├── JobArgumentError                            bad add_job / modify_job argument
    │   │   └── UnknownTriggerError (LookupError)       no trigger by that alias
    │   ├── ConfigurationError                          bad configure() key or value
    │   │   └── UnknownPluginError (LookupError)        no executor/job store by that alias or class
    │   ├── UnreferenceableError                        a callable that cannot be stored by reference
    │   ├── SerializationError                          arguments or state that are not JSON
    │   └── TimezoneLookupError (also KeyError)         a zone name zoneinfo does not know (nbsched.util)
    ├── TriggerSearchError (ValueError)                 a trigger's bounded search found no fire time
    ├── JobLookupError (KeyError)                       no job by that id (str() quoted, as APScheduler's)
    ├── RunLookupError (KeyError)                       no run by that id
    ├── RunFinishedError (ValueError)                   the run has finished: it cannot be cancelled
    ├── ConflictingIdError (KeyError)                   a job by that id exists already
    ├── TransientJobError (ValueError)                  job cannot go to a persistent store
    ├── PluginLookupError (KeyError)                    no trigger/executor/job store by that alias
    ├── PluginLoadError (ImportError)                   a plugin's module fails to import (names alias and cause)
    ├── JobStoreError                                   a store's database cannot be used (names file/URL)
    │   ├── SchemaVersionError                          its schema is newer than this nbsched
    │   ├── DatabaseLockedError                         another process held the write lock too long
    │   ├── DatabaseReadOnlyError                       the file (or database) cannot be written
    │   └── DatabaseFullError                           the disk or a size limit is full; nothing stored
    ├── NotebookRunError (RuntimeError)                 a notebook or cell run failed, timed out, lost its kernel
    │                                                   (nbsched.notebooks.execute; carries ename/evalue/cell_index)
    ├── SchedulerNotStartedError (RuntimeError)         export_jobs() before start(), as APScheduler
    ├── SchedulerAlreadyRunningError
    ├── SchedulerNotRunningError
    └── MaxInstancesReachedError

Messages name the class, the field and the value: ``CronTrigger: day_of_week 'mnday' is not a weekday name``.
The constructor takes the pieces and builds the message, so every such error reads the same.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigurationError",
    "ConflictingIdError",
    "DatabaseFullError",
    "DatabaseLockedError",
    "DatabaseReadOnlyError",
    "InvalidArgumentError",
    "JobArgumentError",
    "JobLookupError",
    "JobStoreError",
    "MaxInstancesReachedError",
    "NbschedError",
    "PluginLoadError",
    "PluginLookupError",
    "RunFinishedError",
    "RunLookupError",
    "SchedulerAlreadyRunningError",
    "SchedulerNotRunningError",
    "SchedulerNotStartedError",
    "SchemaVersionError",
    "SerializationError",
    "TimezoneLookupError",
    "TransientJobError",
    "TriggerArgumentError",
    "TriggerSearchError",
    "UnknownPluginError",
    "UnknownTriggerError",
    "UnreferenceableError",
]


class NbschedError(Exception):
    """Root of every error nbsched raises on purpose."""

    @property
    def message(self) -> str:
        """The error's message for people: ``str()`` without the quotes a ``KeyError`` puts around it
        (:class:`JobLookupError` and :class:`ConflictingIdError` keep APScheduler's quoted ``str()``)."""
        if isinstance(self, KeyError) and len(self.args) == 1:
            return str(self.args[0])
        return str(self)


class InvalidArgumentError(NbschedError, ValueError, TypeError):
    """An argument was rejected.

    :param owner: the class or function that rejected it (``"CronTrigger"``, ``"add_job"``)
    :param field: the argument's name
    :param value: the rejected value
    :param problem: what is wrong with it, as the end of a sentence (``"is not a weekday name"``)
    """

    def __init__(self, owner: str, field: str, value: Any, problem: str) -> None:
        self.owner = owner
        self.field = field
        self.value = value
        self.problem = problem
        super().__init__(f"{owner}: {field} {_short_repr(value)} {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors that cross process boundaries must pickle (process pool executor).
        return (type(self), (self.owner, self.field, self.value, self.problem))


class TriggerArgumentError(InvalidArgumentError):
    """A trigger argument (field, expression, date, time zone, jitter) was rejected."""


class JobArgumentError(InvalidArgumentError):
    """An ``add_job``/``modify_job`` argument was rejected."""


class ConfigurationError(InvalidArgumentError):
    """A ``configure()`` key or value was rejected (unknown keys included, unlike APScheduler)."""


class UnreferenceableError(InvalidArgumentError):
    """A callable cannot be stored as a ``module:qualname`` reference (lambda, closure, ``__main__``)."""


class SerializationError(InvalidArgumentError):
    """A value that must be stored as JSON (job arguments, trigger state) is not JSON-serialisable."""


class TimezoneLookupError(InvalidArgumentError, KeyError):
    """A time zone name the zone database does not know, where APScheduler 3 raises zoneinfo's ``KeyError``."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UnknownTriggerError(JobArgumentError, LookupError):
    """``add_job``/``reschedule_job`` named a trigger alias that no trigger has (a ``LookupError``, as
    APScheduler's)."""


class UnknownPluginError(ConfigurationError, LookupError):
    """An executor or job store was configured by an alias or class reference that names none (a
    ``LookupError``, as APScheduler's)."""


class SchedulerNotStartedError(NbschedError, RuntimeError):
    """The scheduler must have been started for this to work (a ``RuntimeError``, as APScheduler's).

    :param action: what needs it, as APScheduler words it (``"job export"``)
    """

    def __init__(self, action: str) -> None:
        self.action = action
        super().__init__(f"the scheduler must have been started for {action} to work")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.action,))


class TriggerSearchError(NbschedError, ValueError):
    """A trigger's bounded search for the next fire time ended without finding one."""


class JobLookupError(NbschedError, KeyError):
    """No job by the given id exists."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"No job by the id of {job_id} was found")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.job_id,))


class RunLookupError(NbschedError, KeyError):
    """No run by the given id exists."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(f"No run by the id of {run_id} was found")

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.run_id,))


class RunFinishedError(NbschedError, ValueError):
    """The run has finished already (it cannot be cancelled any more)."""

    def __init__(self, run_id: str, status: str) -> None:
        self.run_id, self.status = run_id, status
        super().__init__(f"Run {run_id} has already finished ({status})")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.run_id, self.status))


class ConflictingIdError(NbschedError, KeyError):
    """A job with the same id already exists in the job store."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"Job identifier ({job_id}) conflicts with an existing job")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.job_id,))


class TransientJobError(NbschedError, ValueError):
    """A job whose callable has no textual reference was sent to a store that persists jobs."""

    def __init__(self, job_id: str, reason: str = "") -> None:
        self.job_id = job_id
        message = (
            f"Job ({job_id}) cannot be added to this job store because a reference to the callable "
            "could not be determined."
        )
        super().__init__(f"{message} {reason}".strip())


class PluginLookupError(NbschedError, KeyError):
    """No trigger, executor or job store is known by that alias.

    :param kind: ``"trigger"``, ``"executor"``, ``"job store"``
    :param alias: the alias looked up
    :param known: the aliases there are (listed in the message)
    :param owner: the function whose argument named it (``"add_job"``, ``"Job 'report'"``); with ``field``,
        the message takes the ``<owner>: <field> <value> <problem>`` form
    :param field: the argument that named it (``"executor"``)
    """

    def __init__(
        self,
        kind: str,
        alias: str,
        known: list[str] | None = None,
        owner: str | None = None,
        field: str | None = None,
    ) -> None:
        self.kind = kind
        self.alias = alias
        self.known = known
        self.owner = owner
        self.field = field
        hint = f" (known: {', '.join(sorted(known))})" if known else ""
        if owner is None:
            message = f'No {kind} by the name "{alias}" was found{hint}'
        else:
            article = "an" if kind[:1] in ("a", "e", "i", "o", "u") else "a"
            message = f"{owner}: {field or kind} {_short_repr(alias)} is not {article} {kind} of this scheduler{hint}"
        super().__init__(message)

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.kind, self.alias, self.known, self.owner, self.field))


class PluginLoadError(NbschedError, ImportError):
    """A plugin is registered but its module cannot be imported (broken, or an optional extra is missing).

    :param kind: ``"trigger"``, ``"executor"``, ``"job store"``, ``"task"``
    :param alias: the alias looked up
    :param target: the ``module:qualname`` the alias points to
    :param problem: why it cannot be loaded (the import error), with what to install where that is known
    """

    def __init__(self, kind: str, alias: str, target: str, problem: str) -> None:
        self.kind = kind
        self.alias = alias
        self.target = target
        self.problem = problem
        super().__init__(f"{kind} plugin {alias!r} ({target}) cannot be loaded: {problem}")

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.kind, self.alias, self.target, self.problem))


class SchedulerAlreadyRunningError(NbschedError):
    """Raised when attempting to start or configure the scheduler when it's already running."""

    def __str__(self) -> str:
        return "Scheduler is already running"


class SchedulerNotRunningError(NbschedError):
    """Raised when attempting to shut down the scheduler when it's not running."""

    def __str__(self) -> str:
        return "Scheduler is not running"


class MaxInstancesReachedError(NbschedError):
    """A job was due while ``max_instances`` of it were already running."""

    def __init__(self, job: Any) -> None:
        self.job_id = getattr(job, "id", job)
        self.max_instances = getattr(job, "max_instances", None)
        super().__init__(
            f'Job "{self.job_id}" has already reached its maximum number of instances ({self.max_instances})'
        )


class JobStoreError(NbschedError):
    """A job store's database cannot be used as asked.

    :param database: the SQLite file or the database URL (password hidden)
    :param problem: what went wrong, as the end of a sentence beginning with ``database <database>``
    """

    def __init__(self, database: str, problem: str) -> None:
        self.database = database
        self.problem = problem
        super().__init__(f"database {database} {problem}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.database, self.problem))


class SchemaVersionError(JobStoreError):
    """The database was migrated by a newer nbsched than this one."""

    def __init__(self, database: str, found: str, known: str) -> None:
        self.found = found
        self.known = known
        NbschedError.__init__(
            self,
            f"database {database} has schema version {found}, newer than this nbsched ({known}); upgrade nbsched",
        )
        self.database = database
        self.problem = str(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.database, self.found, self.known))


class DatabaseLockedError(JobStoreError):
    """Another process kept the database's write lock beyond the busy timeout, retries included."""


class DatabaseReadOnlyError(JobStoreError):
    """The database file (or the database) cannot be written."""


class DatabaseFullError(JobStoreError):
    """The disk, or a size limit of the database, is full; the transaction was rolled back."""


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
