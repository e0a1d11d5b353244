"""Kernelspecs installed here: which names exist, their language, and the error for a name that does not."""

from __future__ import annotations

from functools import cache

from nbsched.exceptions import JobArgumentError

__all__ = ["check_kernel_name", "installed_kernels", "kernel_language", "unknown_kernel_error"]


def installed_kernels() -> list[str]:
    """The names of the kernelspecs installed here (what ``jupyter kernelspec list`` shows), sorted."""
    from jupyter_client.kernelspec import KernelSpecManager

    return sorted(KernelSpecManager().find_kernel_specs())


def unknown_kernel_error(owner: str, field: str, kernel_name: str) -> JobArgumentError:
    """``Notebook: kernel_name 'nosuchkernel' is not an installed kernelspec (installed: python3)``."""
    installed = ", ".join(installed_kernels()) or "none"
    return JobArgumentError(owner, field, kernel_name, f"is not an installed kernelspec (installed: {installed})")


def check_kernel_name(owner: str, field: str, kernel_name: str) -> None:
    """Refuse a kernel name that no kernelspec installed here has (looked up the way a run starts it).

    :raises JobArgumentError: see :func:`unknown_kernel_error`
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise unknown_kernel_error(owner, field, kernel_name) from None


@cache
def kernel_language(kernel_name: str) -> str | None:
    """The language of an installed kernelspec (``None`` when it is not installed)."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        return str(KernelSpecManager().get_kernel_spec(kernel_name).language).lower()
    except NoSuchKernel:
        return None
