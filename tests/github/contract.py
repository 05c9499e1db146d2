"""Every request to the fake and every response from it, checked against GitHub's OpenAPI description.

`contract(version)` is built once per process per REST API version. `check_request` finds the
operation (path and method) and validates parameters and body with openapi-core; a request the
description does not allow raises `RequestRefused` carrying the status and message GitHub answers
with. `check_response` validates status and body; a response the description forbids raises
`ResponseForbidden` (a bug in the fake). GitHub answers any operation with 401, 403, 404, 409 or 422 even where
the description lists no such response; those are held to the `basic-error` schema instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import quote, unquote

from jsonschema import ValidationError
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.templating.paths.exceptions import PathError
from openapi_core.templating.paths.finders import APICallPathFinder
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_schema_validator import OAS30Validator
from werkzeug.datastructures import Headers, ImmutableMultiDict

from . import spec

API_HOST = "https://api.github.com"
DOCS = "https://docs.github.com/rest"
UNDOCUMENTED_ERRORS = (401, 403, 404, 409, 422)


class RequestRefused(Exception):
    """The request does not match the description: GitHub would answer `status` with `message`."""

    def __init__(self, status: int, message: str, detail: str) -> None:
        super().__init__(f"{status} {message}: {detail}")
        self.status, self.message, self.detail = status, message, detail


class ResponseForbidden(AssertionError):
    """The fake produced a response the description does not allow."""


@dataclass(frozen=True)
class Operation:
    """A request the description allows, with its parameters as the description types them."""

    operation_id: str
    path_pattern: str
    path: Mapping[str, Any]
    query: Mapping[str, Any]
    body: Any


@dataclass
class _Request:
    """openapi-core's Request protocol, for a request addressed to api.github.com."""

    method: str
    path: str
    parameters: RequestParameters
    body: bytes | None
    content_type: str
    path_pattern: str | None = None
    host_url: str = API_HOST


@dataclass
class _Response:
    status_code: int
    data: bytes | None
    headers: Headers
    content_type: str


_CONTENTS = re.compile(r"^(/repos/[^/]+/[^/]+/contents/)(.+)$")


def _one_segment_file_path(path: str) -> str:
    """GitHub's contents endpoints take a file path with slashes as their `{path}` (models/m.yaml);
    OpenAPI path templates match one segment: the finder gets it percent-encoded, the handler decoded."""
    m = _CONTENTS.match(path)
    return m.group(1) + quote(unquote(m.group(2)), safe="") if m else path


class Contract:
    def __init__(self, version: str) -> None:
        self.version = version
        self.openapi = OpenAPI.from_dict(spec.document(version), config=Config(spec_validator_cls=None))
        self._finder = APICallPathFinder(self.openapi.spec, base_url=None)

    def check_request(
        self, method: str, path: str, query: Mapping[str, list[str]], headers: Mapping[str, str], body: bytes
    ) -> Operation:
        try:
            found = self._finder.find(method.lower(), API_HOST + _one_segment_file_path(path))
        except PathError as e:
            raise RequestRefused(404, "Not Found", f"no operation {method.upper()} {path} in the description") from e
        if "path" in found.path_result.variables:
            found.path_result.variables["path"] = unquote(found.path_result.variables["path"])
        pattern = found.path_result.pattern
        operation_id = (found.operation / "operationId").read_value()
        parsed = _parse_json(body)
        request = self._request(method, path, pattern, query, headers, body, found.path_result.variables)
        result = self.openapi.unmarshal_request(request)
        if result.errors:
            raise _refusal(operation_id, result.errors)
        return Operation(
            operation_id=operation_id,
            path_pattern=pattern,
            path=dict(result.parameters.path),
            query=dict(result.parameters.query),
            body=parsed,
        )

    def check_response(self, method: str, path: str, op: Operation, status: int, body: Any) -> None:
        data = None if body is None else json.dumps(body).encode()
        request = self._request(method, path, op.path_pattern, {}, {}, b"", {k: str(v) for k, v in op.path.items()})
        response = _Response(status, data, Headers({"Content-Type": "application/json"}), "application/json")
        errors = self.openapi.unmarshal_response(request, response).errors
        # An error the description does not list, or one it lists as a oneOf no body can meet (409 of
        # the contents API: basic-error or repository-rule-violation-error, each admitting the other's
        # bodies): held to basic-error, what GitHub sends.
        if errors and status in UNDOCUMENTED_ERRORS and (isinstance(errors[0], ResponseNotFound) or _one_of(errors)):
            errors = schema_errors("basic-error", body, version=self.version)
            if not errors:
                return
        if errors:
            raise ResponseForbidden(f"{op.operation_id} -> {status}: {describe(errors)}")

    @staticmethod
    def _request(
        method: str,
        path: str,
        pattern: str | None,
        query: Mapping[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
        variables: Mapping[str, str] | None = None,
    ) -> _Request:
        params = RequestParameters(
            query=ImmutableMultiDict([(k, v) for k, vs in query.items() for v in vs]),
            header=Headers(dict(headers)),
            cookie=ImmutableMultiDict(),
            path=dict(variables or {}),
        )
        return _Request(method.lower(), path, params, body or None, "application/json", pattern)


def _one_of(errors: Any) -> bool:
    return "is valid under each of" in describe(errors)


@cache
def contract(version: str = spec.BASE_VERSION) -> Contract:
    return Contract(version)


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError as e:
        raise RequestRefused(400, "Problems parsing JSON", str(e)) from e


def _refusal(operation_id: str, errors: list[Exception]) -> RequestRefused:
    detail = describe(errors)
    return RequestRefused(422, "Invalid request.", f"{operation_id}: {detail}")


def describe(errors: list[Exception]) -> str:
    """One line per problem: the JSON path and what is wrong, as jsonschema reports it."""
    lines = []
    for error in errors:
        if isinstance(error, ValidationError):
            lines.append(f"/{'/'.join(map(str, error.absolute_path))}: {error.message[:300]}")
            continue
        inner = getattr(error.__cause__, "schema_errors", None) or getattr(error, "schema_errors", None)
        if inner:
            lines += [f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in inner]
        else:
            lines.append(f"{type(error).__name__}: {str(error)[:300]}" + _cause(error))
    return "; ".join(lines)


def _cause(error: Exception) -> str:
    cause = error.__cause__
    if cause is None:
        return ""
    inner = getattr(cause, "schema_errors", None)
    if inner:
        return " (" + "; ".join(f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in inner) + ")"
    return f" ({str(cause)[:300]})"


@cache
def _validator(schema_name: str, version: str) -> OAS30Validator:
    doc = spec.document(version)
    root = {"$ref": f"#/components/schemas/{schema_name}", "components": doc["components"]}
    return OAS30Validator(root, format_checker=OAS30Validator.FORMAT_CHECKER)


def schema_errors(schema_name: str, instance: Any, version: str = spec.BASE_VERSION) -> list[Exception]:
    """Validation errors of `instance` against components/schemas/<schema_name>."""
    return list(_validator(schema_name, version).iter_errors(instance))
