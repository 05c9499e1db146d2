"""Client-side fix for the ~40 ms stall on kept-alive connections to multi-worker servers.

`mlflow server --workers N` (N > 1) runs uvicorn's multi-process listener, whose sockets
lose TCP_NODELAY (uvicorn issue 3149). The server then sends a response's body segment only
after the client ACKs the header segment, and Linux delays that ACK by up to 40 ms on a
kept-alive connection. Measured here against a 2-worker server: a registry GET takes 72 ms
instead of 28 ms and a tag write 143 ms instead of 59 ms (bench/registry_bench.py, part 4;
bench/RESULTS.md).

We cannot fix servers we do not run, so the client asks the kernel to ACK at once: it sets
TCP_QUICKACK on the socket right before reading each response (the flag is not sticky, so
once per response). Connections stay kept alive; only the ACK timing changes. Linux only;
elsewhere this is a no-op.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any

from urllib3 import connection, connectionpool

_QUICKACK = getattr(socket, "TCP_QUICKACK", None)


def _quickack_getresponse(base: type) -> type:
    def getresponse(self: Any, *args: Any, **kwargs: Any) -> Any:
        sock = getattr(self, "sock", None)
        if sock is not None and _QUICKACK is not None:
            # A socket that refuses the option still works, just slower.
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, _QUICKACK, 1)
        return base.getresponse(self, *args, **kwargs)  # type: ignore[attr-defined]

    return type(f"QuickAck{base.__name__}", (base,), {"getresponse": getresponse})


QuickAckHTTPConnection = _quickack_getresponse(connection.HTTPConnection)
QuickAckHTTPSConnection = _quickack_getresponse(connection.HTTPSConnection)


def install_quickack() -> None:
    """Make urllib3's pools (used by MLflow's requests session) open quick-ACK connections."""
    if _QUICKACK is None:
        return
    connectionpool.HTTPConnectionPool.ConnectionCls = QuickAckHTTPConnection
    connectionpool.HTTPSConnectionPool.ConnectionCls = QuickAckHTTPSConnection
