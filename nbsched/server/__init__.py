"""nbsched's Jupyter server extension: a scheduler over the shared store and a REST API under ``/nbsched/api/``.

Enabled on install by ``etc/jupyter/jupyter_server_config.d/nbsched.json``
(``{"ServerApp": {"jpserver_extensions": {"nbsched.server": true}}}``); configured through
:class:`~nbsched.server.app.NbschedServer` (``c.NbschedServer.run_scheduler``, ``c.NbschedServer.db_url``,
``c.NbschedServer.shutdown_grace``).
The API is described by ``openapi.yaml`` next to this module (:func:`openapi_path`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["openapi_path"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    """The extension point Jupyter server loads (the app is imported only then: jupyter_server is heavy)."""
    from nbsched.server.app import NbschedServer

    return [{"module": "nbsched.server", "app": NbschedServer}]


def openapi_path() -> Path:
    """The OpenAPI 3.1 description of the REST API (``openapi.yaml``, shipped with the package)."""
    return Path(__file__).with_name("openapi.yaml")
