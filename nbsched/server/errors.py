"""The one place where errors become HTTP responses.

Every error body is JSON: ``{"message": "<what went wrong>", "error": "<error class>"}`` (JupyterLab's
``ServerConnection.ResponseError`` shows ``message``). The mapping:

================================================================  ======  =====================================
raised                                                            status  body ``message``
================================================================  ======  =====================================
:class:`ApiError` (raised by the handlers themselves)             its own its own
``InvalidArgumentError`` and its leaves (``JobArgumentError``,    400     the error's message, which names the
``TriggerArgumentError``, ``SerializationError``, ...),                   field and the value
``TriggerSearchError``, ``TransientJobError``,
``PluginLookupError`` (an unknown alias in the request)
``JobLookupError``, ``RunLookupError``                            404     "No job by the id of x was found"
``ConflictingIdError``, ``SchedulerAlreadyRunningError``,         409     the error's message
``SchedulerNotRunningError``, ``MaxInstancesReachedError``,
``RunFinishedError``
``tornado.web.HTTPError`` (403 from authentication, 404 routes)   its own its log message or reason
anything else                                                     500     a generic message; logged with its
                                                                          traceback
================================================================  ======  =====================================

A 500 never echoes the exception: it may hold paths, SQL or credentials.
"""

from __future__ import annotations

from http.client import responses
from typing import Any

from tornado.web import HTTPError

from nbsched.exceptions import (
    ConflictingIdError,
    InvalidArgumentError,
    JobLookupError,
    MaxInstancesReachedError,
    NbschedError,
    PluginLookupError,
    RunFinishedError,
    RunLookupError,
    SchedulerAlreadyRunningError,
    SchedulerNotRunningError,
    TransientJobError,
    TriggerSearchError,
)

__all__ = ["INTERNAL_ERROR_MESSAGE", "ApiError", "error_body", "status_for"]

#: the message of every 500 response (the details go to the server log)
INTERNAL_ERROR_MESSAGE = "nbsched: internal server error (the details are in the Jupyter server log)"

_STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (InvalidArgumentError, 400),
    (TriggerSearchError, 400),
    (TransientJobError, 400),
    (PluginLookupError, 400),
    (JobLookupError, 404),
    (RunLookupError, 404),
    (ConflictingIdError, 409),
    (RunFinishedError, 409),
    (SchedulerAlreadyRunningError, 409),
    (SchedulerNotRunningError, 409),
    (MaxInstancesReachedError, 409),
)


class ApiError(HTTPError):
    """An error response decided by a handler: a status and a message meant for the caller.

    :param status: the HTTP status
    :param message: the whole message, shown as it is (no ``%`` formatting)
    :param error: the ``error`` field of the body (default: ``HTTPError``)
    """

    def __init__(self, status: int, message: str, error: str = "HTTPError") -> None:
        # log_message "%s" with the message as argument: tornado %-formats log messages.
        super().__init__(status, "%s", message)
        self.message = message
        self.error = error


def status_for(exc: BaseException) -> int | None:
    """The status of a response for ``exc``, or ``None`` when it is not a known client error (500)."""
    if isinstance(exc, HTTPError):
        return exc.status_code
    if isinstance(exc, NbschedError):
        for cls, status in _STATUS:
            if isinstance(exc, cls):
                return status
    return None


def error_body(status: int, exc: BaseException | None) -> dict[str, Any]:
    """The JSON body of an error response with ``status`` caused by ``exc``."""
    if isinstance(exc, ApiError):
        return {"message": exc.message, "error": exc.error}
    if isinstance(exc, HTTPError):
        message = exc.log_message % exc.args if exc.log_message and exc.args else exc.log_message
        return {"message": message or exc.reason or responses.get(status, "Unknown error"), "error": "HTTPError"}
    if exc is not None and status_for(exc) == status and status < 500:
        message = exc.message if isinstance(exc, NbschedError) else str(exc)  # without a KeyError's quotes
        return {"message": message, "error": type(exc).__name__}
    return {"message": INTERNAL_ERROR_MESSAGE, "error": "InternalServerError"}
