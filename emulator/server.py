"""A small threaded HTTP/1.1 server for the emulator's WSGI app.

Why not wsgiref or werkzeug: both parse headers through the `email` package and answer HTTP/1.0
by default, which costs more CPU per call than the whole emulator may spend; neither can drop a
connection on purpose. This one does keep-alive, one thread per connection (calls that stall or
sleep for `--latency-ms` overlap freely) and closes the socket unanswered when the app asks.
"""

import io
import logging
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from email.utils import formatdate
from types import TracebackType
from typing import Any
from urllib.parse import unquote

from emulator.http11 import BadRequest, ConnectionDropped, Request, RequestReader

log = logging.getLogger(__name__)

IDLE_TIMEOUT_S = 75
BACKLOG = 1024
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Any]


class WSGIServer:
    """Serves one WSGI app: an accept loop, then a thread per connection for its keep-alive life."""

    def __init__(self, app: WSGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self._app = app
        self._listener = socket.create_server((host, port), backlog=BACKLOG)
        self.host, self.port = self._listener.getsockname()[:2]
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._date = (0, "")

    def serve_forever(self) -> None:
        while not self._closing.is_set():
            try:
                conn, peer = self._listener.accept()
            except OSError:
                if self._closing.is_set():
                    return
                time.sleep(0.05)
                continue
            worker = threading.Thread(target=self._serve_connection, args=(conn, peer), daemon=True)
            worker.start()

    def shutdown(self) -> None:
        """Stop accepting and wake every connection thread; a stalled call ends on its own."""
        self._closing.set()
        with suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def _serve_connection(self, conn: socket.socket, peer: tuple[str, int]) -> None:
        with self._lock:
            self._connections.add(conn)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # A kernel receive timeout rather than settimeout(): Python would poll() before every
        # recv and send, doubling the system calls of a keep-alive request.
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", IDLE_TIMEOUT_S, 0))
        reader = RequestReader(conn)
        try:
            while not self._closing.is_set():
                request = reader.next_request()
                if request is None or not self._answer(conn, request, peer):
                    break
        except BadRequest as error:
            with suppress(OSError):
                conn.sendall(self._head(error.status, [], 0, keep_alive=False))
        except (OSError, ConnectionDropped):
            pass
        except Exception:
            log.exception("WSGI app failed")
            with suppress(OSError):
                conn.sendall(self._head("500 Internal Server Error", [], 0, keep_alive=False))
        finally:
            with self._lock:
                self._connections.discard(conn)
            conn.close()

    def _answer(self, conn: socket.socket, request: Request, peer: tuple[str, int]) -> bool:
        """Run the app and send its answer; True when the connection stays open."""
        started: list[Any] = []
        written: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
            started[:] = [status, headers]
            return written.append

        chunks = self._app(self._environ(request, conn, peer), start_response)
        try:
            written.extend(chunks)
            body = b"".join(written)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        status, headers = started
        keep_alive = request.keep_alive and not self._closing.is_set()
        head = self._head(status, headers, len(body), keep_alive)
        conn.sendall(head if request.method == "HEAD" else head + body)
        return keep_alive

    def _head(
        self, status: str, headers: list[tuple[str, str]], length: int, keep_alive: bool
    ) -> bytes:
        lines = [f"HTTP/1.1 {status}"]
        lines.extend(f"{name}: {value}" for name, value in headers)
        if not any(name.lower() == "content-length" for name, _ in headers):
            lines.append(f"Content-Length: {length}")
        lines.append(f"Date: {self._http_date()}")
        lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _http_date(self) -> str:
        """Formatting a date costs more than the rest of the head, so once per second is enough."""
        now = int(time.time())
        if self._date[0] != now:
            self._date = (now, formatdate(now, usegmt=True))
        return self._date[1]

    def _environ(
        self, request: Request, conn: socket.socket, peer: tuple[str, int]
    ) -> dict[str, Any]:
        path, _, query = request.target.partition("?")
        environ = {
            "REQUEST_METHOD": request.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, encoding="latin-1") if "%" in path else path,
            "QUERY_STRING": query,
            "CONTENT_TYPE": request.headers.get("content-type", ""),
            "CONTENT_LENGTH": str(len(request.body)) if request.body else "",
            "SERVER_NAME": self.host,
            "SERVER_PORT": str(self.port),
            "SERVER_PROTOCOL": request.version,
            "REMOTE_ADDR": peer[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(request.body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "emulator.socket": conn,
        }
        for name, value in request.headers.items():
            if name not in ("content-type", "content-length"):
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        return environ


@dataclass
class RunningServer:
    """A server on a background thread; `url` is what to point an SDK client or `requests` at."""

    host: str
    port: int
    _server: WSGIServer
    _thread: threading.Thread

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def __enter__(self) -> "RunningServer":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def serve_in_background(app: WSGIApp, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Start serving `app` on a daemon thread; port 0 picks a free port."""
    server = WSGIServer(app, host, port)
    thread = threading.Thread(target=server.serve_forever, name="emulator-server", daemon=True)
    thread.start()
    return RunningServer(server.host, server.port, server, thread)
