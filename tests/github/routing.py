"""What a handler gets and returns, the table of handlers by operationId, and GitHub's pagination."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from .contract import Operation
from .state import State, Token

MAX_PER_PAGE = 100


class ApiError(Exception):
    """An answer GitHub gives instead of the resource: 403, 404, 409, 422..."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(f"{status} {message}")
        self.status, self.message, self.errors = status, message, errors


@dataclass
class Ctx:
    state: State
    op: Operation
    token: Token
    api: str  # the fake's base URL, as the client addresses it
    path: str  # the request path, for pagination links

    def body(self, key: str, default: Any = None) -> Any:
        return (self.op.body or {}).get(key, default)

    def query(self, key: str, default: Any = None) -> Any:
        return self.op.query.get(key, default)


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Ctx], Reply]


@dataclass(frozen=True)
class Route:
    handler: Handler
    scope: str
    level: str
    alt_scope: str | None = None  # issues endpoints also accept pull_requests on pull requests


ROUTES: dict[str, Route] = {}


def handles(operation_id: str, scope: str, level: str, alt_scope: str | None = None) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        if operation_id in ROUTES:  # two handler sets for one operation: the last import would win silently
            raise RuntimeError(
                f"{operation_id} is handled twice: {ROUTES[operation_id].handler.__module__}, {fn.__module__}"
            )
        ROUTES[operation_id] = Route(fn, scope, level, alt_scope)
        return fn

    return register


def paginate(ctx: Ctx, items: Sequence[Any], render: Callable[[Any], Any]) -> Reply:
    """One page of `items` with GitHub's Link header (first, prev, next, last)."""
    per_page = min(int(ctx.query("per_page", 30)), MAX_PER_PAGE)
    page = max(int(ctx.query("page", 1)), 1)
    last = max((len(items) + per_page - 1) // per_page, 1)
    chunk = items[(page - 1) * per_page : page * per_page]
    links = []
    if page < last:
        links += [_link(ctx, page + 1, per_page, "next"), _link(ctx, last, per_page, "last")]
    if page > 1:
        links += [_link(ctx, 1, per_page, "first"), _link(ctx, min(page - 1, last), per_page, "prev")]
    headers = {"Link": ", ".join(links)} if links else {}
    return Reply(200, [render(item) for item in chunk], headers)


def _link(ctx: Ctx, page: int, per_page: int, rel: str) -> str:
    params = {k: _wire(v) for k, v in ctx.op.query.items() if k not in ("page", "per_page")}
    params.update(per_page=per_page, page=page)
    return f'<{ctx.api}{ctx.path}?{urlencode(params)}>; rel="{rel}"'


def _wire(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return ",".join(map(str, value))
    return value


def check_repo(ctx: Ctx) -> None:
    owner, repo = str(ctx.op.path.get("owner", "")), str(ctx.op.path.get("repo", ""))
    if f"{owner}/{repo}".lower() != ctx.state.repo.full_name.lower():
        raise ApiError(404, "Not Found")
