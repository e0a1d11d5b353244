"""Textual references to callables: ``"package.module:qualified.name"``.

Stores keep callables only as references, never pickled. :func:`obj_to_ref` explains, with the fix, why a
callable has none (lambda, closure, ``__main__``, bound method of an instance).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import weakref
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from importlib import import_module
from typing import Any

from nbsched.exceptions import InvalidArgumentError, ReferenceLookupError, UnreferenceableError

__all__ = [
    "MAIN_PROBLEM",
    "callable_name",
    "check_callable_args",
    "maybe_ref",
    "obj_to_ref",
    "ref_problem",
    "ref_to_obj",
    "reference_problem",
]


def callable_name(func: Callable[..., Any]) -> str:
    """The best-effort display name of a callable (its qualified name)."""
    if isinstance(func, partial):
        return callable_name(func.func)
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    if name is None:
        return type(func).__qualname__
    self_obj = getattr(func, "__self__", None)
    if inspect.isclass(self_obj):
        return f"{self_obj.__qualname__}.{func.__name__}"
    return str(name)


def reference_problem(obj: Any) -> str | None:
    """Why ``obj`` has no importable ``module:qualname`` reference, with the fix; ``None`` when it has one."""
    if isinstance(obj, partial):
        return "it is a functools.partial; schedule the function itself and pass the arguments with args/kwargs"
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if inspect.ismethod(obj) and not inspect.isclass(obj.__self__):
        return (
            "it is a method bound to an instance; schedule a module-level function (or a classmethod/staticmethod)"
            " and pass the instance's data as arguments"
        )
    if module is None or qualname is None:
        return "it has no __module__/__qualname__; schedule a module-level function"
    if qualname == "<lambda>" or qualname.endswith(".<lambda>"):
        return "it is a lambda; define it with `def` at the top level of an importable module"
    if "<locals>" in qualname:
        return "it is defined inside another function (a closure); move it to the top level of an importable module"
    if module == "__main__":
        return MAIN_PROBLEM
    return None


#: why a callable of ``__main__`` cannot be stored by reference, with the fix
MAIN_PROBLEM = (
    "it is defined in __main__ (a script or a notebook), which another process cannot import; move it to"
    " an importable module, or schedule the cell's source with nbsched.Cell"
)


def ref_problem(ref: str) -> str | None:
    """Why another process cannot load the ``module:qualname`` reference ``ref``, with the fix, or ``None``.

    A ``__main__`` reference resolves here, but in another process it names that process's own script.
    """
    return MAIN_PROBLEM if ref.partition(":")[0] == "__main__" else None


def obj_to_ref(obj: Any) -> str:
    """The ``module:qualname`` reference of a callable.

    :raises UnreferenceableError: when it has none or it does not resolve back to the same object
    """
    try:
        return _known_refs[obj]
    except (KeyError, TypeError):  # not seen yet, or unhashable
        pass
    ref = _find_ref(obj)
    with contextlib.suppress(TypeError):
        _known_refs[obj] = ref
    return ref


# Functions whose reference was checked (weakly held: a function that goes away takes its entry along).
_known_refs: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _find_ref(obj: Any) -> str:
    problem = reference_problem(obj)
    if problem is not None:
        raise UnreferenceableError("obj_to_ref", "func", obj, f"cannot be stored by reference: {problem}")
    if inspect.ismethod(obj):
        # A classmethod is named through the class it is bound to, as APScheduler does: an inherited
        # ``Child.create`` is "mod:Child.create" (its __qualname__ "Base.create" would resolve to another method).
        owner: Any = obj.__self__  # a class: reference_problem() refused methods bound to instances
        ref = f"{owner.__module__}:{owner.__qualname__}.{obj.__name__}"
    else:
        ref = f"{obj.__module__}:{obj.__qualname__}"
    try:
        found = ref_to_obj(ref)
    except (InvalidArgumentError, LookupError):
        found = None
    if found != obj:
        raise UnreferenceableError(
            "obj_to_ref", "func", obj, f"cannot be stored by reference: {ref!r} does not resolve back to it"
        )
    return ref


def ref_to_obj(ref: str) -> Any:
    """Import the object a ``module:qualname`` reference names.

    :raises InvalidArgumentError: for a reference without ``:``
    :raises ReferenceLookupError: (a ``LookupError``) when the module or the attribute cannot be found
    """
    if not isinstance(ref, str):
        raise InvalidArgumentError("ref_to_obj", "ref", ref, "must be a string")
    if ":" not in ref:
        raise InvalidArgumentError("ref_to_obj", "ref", ref, "is not a 'package.module:name' reference")
    modulename, _, rest = ref.partition(":")
    try:
        obj: Any = import_module(modulename)
    except ImportError as exc:
        raise ReferenceLookupError(ref, f"could not import module ({exc})") from None
    try:
        for name in rest.split("."):
            obj = getattr(obj, name)
    except AttributeError:
        raise ReferenceLookupError(ref, "error looking up object") from None
    return obj


def maybe_ref(ref: Any) -> Any:
    """Resolve ``ref`` if it is a string reference, else return it unchanged."""
    return ref_to_obj(ref) if isinstance(ref, str) else ref


def _signature(func: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return _cached_signature(func)
    except TypeError:  # unhashable callable
        return _uncached_signature(func)


@functools.lru_cache(maxsize=1024)
def _cached_signature(func: Callable[..., Any]) -> inspect.Signature | None:
    return _uncached_signature(func)


def _uncached_signature(func: Callable[..., Any]) -> inspect.Signature | None:
    try:
        # The callable's own signature, as APScheduler checks it: a decorator's wrapper may take other arguments
        # than the function it wraps (one that supplies an argument itself, say).
        return inspect.signature(func, follow_wrapped=False)
    except (ValueError, TypeError):
        return None


def check_callable_args(
    func: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any], owner: str = "add_job"
) -> None:
    """Check that ``func(*args, **kwargs)`` binds, so a mistake shows when the job is added, not when it runs.

    :raises JobArgumentError: naming the first problem
    """
    from nbsched.exceptions import JobArgumentError

    try:
        key: Any = (func, len(args), tuple(kwargs))
        problem = _binding_problems[key]
    except KeyError:
        if len(_binding_problems) >= 4096:  # bounded: programs that make a new closure per job
            _binding_problems.clear()
        problem = _binding_problems[key] = _binding_problem(func, args, kwargs)
    except TypeError:  # unhashable callable
        problem = _binding_problem(func, args, kwargs)
    if problem is None:
        return
    sig, reason = problem
    params = ", ".join(str(param).split(":")[0].split("=")[0] for param in sig.parameters.values())
    raise JobArgumentError(
        owner, "args/kwargs", (tuple(args), dict(kwargs)), f"do not fit {callable_name(func)}({params}): {reason}"
    )


# Whether a call shape (function, positional count, keyword names) binds depends on nothing else: cache it.
_binding_problems: dict[Any, tuple[inspect.Signature, str] | None] = {}


def _binding_problem(
    func: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any]
) -> tuple[inspect.Signature, str] | None:
    sig = _signature(func)
    if sig is None:
        return None  # builtins without a signature cannot be checked
    try:
        sig.bind(*args, **kwargs)
    except TypeError as exc:
        return sig, str(exc)
    return None
