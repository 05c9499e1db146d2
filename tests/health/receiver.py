"""A local HTTP receiver for alert webhooks: records every JSON body, answers with the status codes
it is given in turn (then 200)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Receiver:
    url: str
    bodies: list[Any] = field(default_factory=list)  # every request received, answered or not
    answers: list[int] = field(default_factory=list)  # the next status codes; empty: 200

    def delivered(self) -> list[Any]:
        return [b for b, code in zip(self.bodies, self._codes, strict=True) if code == 200]

    _codes: list[int] = field(default_factory=list)


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            code = state.answers.pop(0) if state.answers else 200
            state.bodies.append(body)
            state._codes.append(code)
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b"ok" if code == 200 else b"error")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/alerts"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
