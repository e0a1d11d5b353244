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
    │   └── TimezoneLookupError (KeyError)              a zone name zoneinfo does not know (nbsched.util)
    ├── ParameterTypeError (TypeError)                  a value a notebook parameter cell cannot hold
    ├── TriggerSearchError (ValueError)                 a trigger's bounded search found no fire time
    ├── JobLookupError (KeyError)                       no job by that id (str() quoted, as APScheduler's)
    ├── RunLookupError (KeyError)                       no run by that id
    ├── PluginLookupError (KeyError)                    no trigger/executor/job store by that alias
    ├── PluginLoadError (ImportError)                   a plugin's module fails to import (names alias and cause)
    ├── ReferenceLookupError (LookupError)              a "module:qualname" that names nothing importable
    ├── ConflictingIdError (KeyError)                   a job by that id exists already
    ├── RunFinishedError (ValueError)                   the run has finished: it cannot be cancelled
    ├── TransientJobError (ValueError)                  job cannot go to a persistent store
    ├── JobStoreError                                   a store's database cannot be used (names file/URL)
    │   ├── SchemaVersionError                          its schema is newer than this nbsched
    │   ├── DatabaseLockedError                         another process held the write lock too long
    │   ├── DatabaseReadOnlyError                       the file (or database) cannot be written
    │   └── DatabaseFullError                           the disk or a size limit is full; nothing stored
    ├── NotebookRunError (RuntimeError)                 a notebook or cell run failed, timed out, lost its kernel
    │                                                   (carries ename/evalue/cell_index; nbsched.notebooks.execute)
    ├── KernelRunError (RuntimeError)                   a kernel-mode cell raised (ename/evalue; executors.kernel)
    ├── KernelStartError (RuntimeError)                 a run's kernel died or stayed silent before it was ready
    ├── NotInIPythonError (RuntimeError)                kernel-mode cells used outside an IPython kernel
    ├── ExecutorNotRunningError (RuntimeError)          a run submitted to an executor not started or shut down
    ├── SchedulerNotStartedError (RuntimeError)         export_jobs() before start(), as APScheduler
    ├── SchedulerNotSerializableError (TypeError)       a scheduler was pickled (passed to a job), as APScheduler
    ├── SchedulerAlreadyRunningError
    ├── SchedulerNotRunningError
    ├── MaxInstancesReachedError
    └── CliError                                        the nbsched command's one-line error and exit code

Every error pickles with its attributes and message (errors cross process boundaries): the root's ``__reduce__``
restores them without calling the constructor. Classes raised in one place are still importable from there
(``nbsched.notebooks.execute.NotebookRunError``, ``nbsched.executors.kernel.KernelRunError``,
``nbsched.cli.session.CliError``, ``nbsched.jobstores.sqlalchemy.errors``). Not here, on purpose: the server's
``ApiError`` (a tornado ``HTTPError``: an HTTP response chosen by a handler; importing tornado here would make this
module heavy) and private exceptions that never leave the function that catches them.

Messages name the class, the field and the value: ``CronTrigger: day_of_week 'mnday' is not a weekday name``.
The constructor takes the pieces and builds the message, so every such error reads the same.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CliError",
    "ConfigurationError",
    "ConflictingIdError",
    "DatabaseFullError",
    "DatabaseLockedError",
    "DatabaseReadOnlyError",
    "ExecutorNotRunningError",
    "InvalidArgumentError",
    "JobArgumentError",
    "JobLookupError",
    "JobStoreError",
    "KernelRunError",
    "KernelStartError",
    "MaxInstancesReachedError",
    "NbschedError",
    "NotInIPythonError",
    "NotebookRunError",
    "ParameterTypeError",
    "PluginLoadError",
    "PluginLookupError",
    "ReferenceLookupError",
    "RunFinishedError",
    "RunLookupError",
    "SchedulerAlreadyRunningError",
    "SchedulerNotRunningError",
    "SchedulerNotSerializableError",
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

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors cross process boundaries (process pools, Dask workers) and must pickle. BaseException's own
        # reduce calls ``type(*args)``, which rebuilds the message as the first constructor argument; restore
        # the arguments and the attributes as they were instead, so every class round-trips without code of
        # its own.
        return (_restore, (type(self), self.args, dict(self.__dict__)))


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


class TriggerSearchError(NbschedError, ValueError):
    """A trigger's bounded search for the next fire time ended without finding one."""


class JobLookupError(NbschedError, KeyError):
    """No job by the given id exists."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"No job by the id of {job_id} was found")


class RunLookupError(NbschedError, KeyError):
    """No run by the given id exists."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        super().__init__(f"No run by the id of {run_id} was found")

    def __str__(self) -> str:
        return str(self.args[0])


class RunFinishedError(NbschedError, ValueError):
    """The run has finished already (it cannot be cancelled any more)."""

    def __init__(self, run_id: str, status: str) -> None:
        self.run_id, self.status = run_id, status
        super().__init__(f"Run {run_id} has already finished ({status})")


class ConflictingIdError(NbschedError, KeyError):
    """A job with the same id already exists in the job store."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        super().__init__(f"Job identifier ({job_id}) conflicts with an existing job")


class TransientJobError(NbschedError, ValueError):
    """A job whose callable has no textual reference was sent to a store that persists jobs."""

    def __init__(self, job_id: str, reason: str = "") -> None:
        self.job_id = job_id
        self.reason = reason
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


class DatabaseLockedError(JobStoreError):
    """Another process kept the database's write lock beyond the busy timeout, retries included."""


class DatabaseReadOnlyError(JobStoreError):
    """The database file (or the database) cannot be written."""


class DatabaseFullError(JobStoreError):
    """The disk, or a size limit of the database, is full; the transaction was rolled back."""


class ReferenceLookupError(NbschedError, LookupError):
    """A ``module:qualname`` reference names no importable object (a ``LookupError``, as APScheduler's).

    :param ref: the reference
    :param problem: what failed (``"could not import module (...)"``, ``"error looking up object"``)
    """

    def __init__(self, ref: str, problem: str) -> None:
        self.ref = ref
        self.problem = problem
        super().__init__(f"Error resolving reference {ref}: {problem}")


class SchedulerNotSerializableError(NbschedError, TypeError):
    """A scheduler was pickled (passed as a job argument, or held by an instance whose method is the job)."""

    def __str__(self) -> str:
        return (
            "Schedulers cannot be serialized. Ensure that you are not passing a scheduler instance as an argument "
            "to a job, or scheduling an instance method where the instance contains a scheduler as an attribute."
        )


class ExecutorNotRunningError(NbschedError, RuntimeError):
    """A run was submitted to an executor that is not started, or was shut down.

    :param executor: the executor's class name
    :param state: ``"is not started"`` or ``"was shut down"``
    """

    def __init__(self, executor: str, state: str) -> None:
        self.executor = executor
        self.state = state
        super().__init__(f"{executor} {state}: it cannot run jobs")


class NotInIPythonError(NbschedError, RuntimeError):
    """Something that runs in the live namespace of an IPython kernel was used outside one.

    :param owner: what needs IPython (``"KernelExecutor"``, ``"Cell(mode='kernel')"``)
    :param problem: the end of the sentence (``"runs only inside an IPython kernel"``)
    """

    def __init__(self, owner: str, problem: str) -> None:
        self.owner = owner
        self.problem = problem
        super().__init__(f"{owner} {problem}")


class KernelStartError(NbschedError, RuntimeError):
    """A notebook run's kernel did not become ready: it died or was silent before replying, or could not be moved
    to the run's folder. The run fails with it (the words are nbclient's where nbclient has them)."""


class ParameterTypeError(NbschedError, TypeError):
    """A value that cannot be written into a notebook's ``injected-parameters`` cell.

    :param value: the value (or the dict key) refused
    :param problem: what is wrong with it, as a whole sentence naming its type
    """

    def __init__(self, value: Any, problem: str) -> None:
        self.value = value
        self.problem = problem
        super().__init__(problem)


class CliError(NbschedError):
    """An error the ``nbsched`` command reports as one line on stderr with an exit code (raised by
    :mod:`nbsched.cli`, whose ``session`` module re-exports it and names the codes).

    :param message: the line, without the ``nbsched: error:`` prefix
    :param code: the exit code (default 2, ``EXIT_USAGE``: bad input)
    """

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


class NotebookRunError(NbschedError, RuntimeError):
    """A notebook or cell run that failed, timed out or lost its kernel (raised by
    :mod:`nbsched.notebooks.execute`, which re-exports it).

    The scheduler copies these attributes into the run record.

    :ivar ename: the error's class name as the kernel reported it (``ZeroDivisionError``, ``DeadKernelError``,
        ``CellTimeoutError``)
    :ivar evalue: its message
    :ivar cell_index: 0-based index of the failing cell in the executed notebook (papermill's ``cell_index``:
        before the error banner cells were added), ``None`` when no cell was running; messages show its number,
        ``cell_index + 1`` (see :mod:`nbsched.notebooks.execute`)
    :ivar outputs: output kind -> path of what the run wrote
    :ivar run_status: ``"failed"``, ``"timed_out"`` or ``"cancelled"``
    :ivar traceback_text: the traceback as plain text (ANSI colours removed)
    :ivar input_sha256: the content hash of what the run ran (``None`` when it never read its input)
    :ivar warnings: the outputs that could not be written, and why
    """

    def __init__(
        self,
        ename: str,
        evalue: str,
        cell_index: int | None = None,
        outputs: dict[str, str] | None = None,
        run_status: str = "failed",
        traceback_text: str = "",
        input_sha256: str | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        self.input_sha256 = input_sha256
        self.warnings = list(warnings or [])
        self.ename = ename
        self.evalue = evalue
        self.cell_index = cell_index
        self.outputs = dict(outputs or {})
        self.run_status = run_status
        self.traceback_text = traceback_text
        # The cell's number as people read it (execute.cell_number: counted from 1).
        where = f" in cell {cell_index + 1}" if cell_index is not None else ""
        super().__init__(f"{ename}{where}: {evalue}" if evalue else f"{ename}{where}")


class KernelRunError(NbschedError, RuntimeError):
    """A kernel-mode cell raised (raised by :mod:`nbsched.executors.kernel`, which re-exports it): carries the
    exception's name and value, as notebook runs do.

    :ivar ename: the class name of what the cell raised
    :ivar evalue: its message
    """

    def __init__(self, ename: str, evalue: str) -> None:
        self.ename = ename
        self.evalue = evalue
        super().__init__(f"{ename}: {evalue}" if evalue else ename)


def _restore(cls: type[NbschedError], args: tuple[Any, ...], state: dict[str, Any]) -> NbschedError:
    """Rebuild a pickled error without calling its constructor (see :meth:`NbschedError.__reduce__`)."""
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


def _short_repr(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
