"""The fake's HTTP layer: a threaded server on a free loopback port that checks every exchange.

Per request: the REST API version from `X-GitHub-Api-Version` (GitHub's default when absent), the
operation and its parameters from the OpenAPI description (a mismatch is refused as GitHub would and
recorded as a contract violation), the token, the permission the operation needs, the handler, then
the response against the description (a mismatch is a bug in the fake: recorded, answered with 500).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import handlers_git, handlers_issues, handlers_repos, spec  # noqa: F401 - importing registers the handlers
from .contract import DOCS, Operation, RequestRefused, ResponseForbidden, contract
from .routing import ROUTES, ApiError, Ctx, Reply
from .state import State, Token


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    operation_id: str | None
    status: int
    login: str | None
    api_version: str


@dataclass(frozen=True)
class Violation:
    """A request GitHub's description does not allow (the client's fault)."""

    method: str
    path: str
    status: int
    detail: str


@dataclass
class Log:
    calls: list[Call]
    violations: list[Violation]
    fake_bugs: list[str]
    lock: threading.RLock


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read fake.calls
        pass

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def _dispatch(self) -> None:
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        version = self.headers.get("X-GitHub-Api-Version") or spec.BASE_VERSION
        status, payload, headers, call = self.server.exchange(
            self.command, url.path, url.query, dict(self.headers), body, version
        )
        self.server.record(call)  # before answering: a client that got its answer sees its call counted
        self._send(status, payload, headers)

    def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if payload is not None:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: State, log: Log, lock: threading.RLock) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.state, self.log, self.state_lock = state, log, lock
        self.api = f"http://127.0.0.1:{self.server_address[1]}"

    def record(self, call: Call) -> None:
        with self.log.lock:
            self.log.calls.append(call)

    def exchange(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes, version: str
    ) -> tuple[int, Any, dict[str, str], Call]:
        op: Operation | None = None
        token: Token | None = None
        try:
            if version not in spec.supported_versions():
                raise RequestRefused(400, f"Unsupported 'X-GitHub-Api-Version' header: {version}", version)
            op = contract(version).check_request(method, path, parse_qs(query), headers, body)
            token = self._authenticate(headers)
            reply = self._handle(op, token, path)
        except RequestRefused as e:
            self._violation(Violation(method, path, e.status, e.detail))
            reply = Reply(e.status, _error(e.status, e.message))
        except ApiError as e:
            reply = Reply(e.status, _error(e.status, e.message, e.errors))
        if op is not None:
            reply = self._checked(method, path, op, reply, version)
        login = token.user.login if token else None
        call = Call(method, path, op.operation_id if op else None, reply.status, login, version)
        return reply.status, reply.body, {**_standard_headers(version), **reply.headers}, call

    def _authenticate(self, headers: dict[str, str]) -> Token:
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, value = auth.partition(" ")
        if not auth:
            raise ApiError(401, "Requires authentication")
        token = self.state.tokens.get(value.strip()) if scheme.lower() in ("bearer", "token") else None
        if token is None:
            raise ApiError(401, "Bad credentials")
        return token

    def _handle(self, op: Operation, token: Token, path: str) -> Reply:
        route = ROUTES.get(op.operation_id)
        if route is None:
            self._bug(f"the fake does not implement {op.operation_id} ({path}): add a handler")
            raise ApiError(404, f"Not Found (the fake does not implement {op.operation_id})")
        allowed = token.allows(route.scope, route.level) or (
            route.alt_scope and token.allows(route.alt_scope, route.level)
        )
        if not allowed:
            raise ApiError(
                403,
                "Resource not accessible by integration"
                if token.user.type == "Bot"
                else "Resource not accessible by personal access token",
            )
        with self.state_lock:
            return route.handler(Ctx(self.state, op, token, self.api, path))

    def _checked(self, method: str, path: str, op: Operation, reply: Reply, version: str) -> Reply:
        doc = spec.document(version)
        responses = doc["paths"][op.path_pattern][method.lower()]["responses"]
        schema = (responses.get(str(reply.status)) or {}).get("content", {}).get("application/json", {}).get("schema")
        if schema is not None and reply.body is not None:
            spec.strip_removed(reply.body, schema, doc)
        try:
            contract(version).check_response(method, path, op, reply.status, reply.body)
        except ResponseForbidden as e:
            self._bug(str(e))
            return Reply(500, _error(500, f"fake GitHub bug: {str(e)[:2000]}"))
        return reply

    def _violation(self, v: Violation) -> None:
        with self.log.lock:
            self.log.violations.append(v)

    def _bug(self, message: str) -> None:
        with self.log.lock:
            self.log.fake_bugs.append(message)


def _error(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"message": message, "documentation_url": DOCS, "status": str(status)}
    if errors:
        body["errors"] = errors
    return body


def _standard_headers(version: str) -> dict[str, str]:
    return {
        "X-GitHub-Api-Version-Selected": version,
        "X-GitHub-Media-Type": "github.v3; format=json",
        "X-RateLimit-Limit": "5000",
        "X-RateLimit-Remaining": "4999",
        "X-RateLimit-Reset": "4102444800",
        "X-RateLimit-Used": "1",
        "X-RateLimit-Resource": "core",
    }


def serve(state: State, log: Log, lock: threading.RLock) -> tuple[_Server, Callable[[], None]]:
    """Start the server in a thread; returns it and a function that stops it."""
    server = _Server(state, log, lock)
    thread = threading.Thread(target=server.serve_forever, name="fake-github", daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

    return server, stop
