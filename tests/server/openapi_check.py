"""Checks every response of the REST tests against ``openapi.yaml``: the status must be documented for the
operation, and a JSON body must validate against the documented schema."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from nbsched.server import openapi_path

SPEC_URI = "urn:nbsched:openapi"
#: (method, path template, status) seen by the tests, for the coverage check in test_openapi.py
SEEN: set[tuple[str, str, int]] = set()


@cache
def spec() -> dict[str, Any]:
    return yaml.safe_load(openapi_path().read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@cache
def _registry() -> Registry:
    return Registry().with_resource(SPEC_URI, Resource.from_contents(spec(), default_specification=DRAFT202012))


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for template in spec()["paths"]:
        pattern = re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(template))
        out.append((re.compile(pattern), template))
    return out


def template_of(path: str) -> str:
    """The documented path template matching a concrete URL path (without the base URL)."""
    matches = [template for pattern, template in _templates() if pattern.fullmatch(path)]
    assert len(matches) == 1, f"{path} matches {matches} in openapi.yaml"
    return matches[0]


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def check_response(method: str, path: str, status: int, content_type: str, body: Any) -> None:
    """Assert the response is documented and its JSON body fits the schema."""
    template = template_of(path)
    operation = spec()["paths"][template].get(method.lower())
    assert operation is not None, f"{method} {template} is not documented"
    responses = operation["responses"]
    assert str(status) in responses, f"{method} {template} answered {status}, not documented ({sorted(responses)})"
    SEEN.add((method.upper(), template, status))
    response = _resolve(responses[str(status)])
    content = response.get("content")
    if content is None:
        assert not body, f"{method} {template} {status} is documented without a body"
        return
    media = content_type.split(";", maxsplit=1)[0].strip()
    assert media in content, f"{method} {template} {status}: {media} is not documented ({sorted(content)})"
    if media != "application/json":
        return
    schema = content[media]["schema"]
    if "$ref" in schema:
        schema = {"$ref": SPEC_URI + schema["$ref"]}
    validator = Draft202012Validator(schema, registry=_registry())
    errors = sorted(validator.iter_errors(body), key=lambda error: list(error.path))
    assert not errors, f"{method} {template} {status}: " + "; ".join(
        f"{'/'.join(map(str, error.path))}: {error.message}" for error in errors[:5]
    )
