"""Just enough HTTP/1.1 request parsing for the emulator's server: keep-alive, Content-Length.

A whole request head usually arrives in one segment, so the reader takes it with one `recv` and
splits it at once instead of reading line by line: that is most of what a request costs here.
"""

import socket
from dataclasses import dataclass

RECV_SIZE = 65536
MAX_HEAD = 65536
MAX_HEADERS = 100
HEAD_END = b"\r\n\r\n"


class ConnectionDropped(Exception):
    """Raised by a WSGI app so that the server closes the connection without answering."""


class BadRequest(Exception):
    """A request the server answers with `status` and then closes the connection on."""

    def __init__(self, status: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.1":
            return "close" not in connection
        return "keep-alive" in connection


class RequestReader:
    """Reads the requests of one connection in turn; bytes past a request wait for the next."""

    def __init__(self, conn: socket.socket) -> None:
        self._conn = conn
        self._buffer = b""

    def next_request(self) -> Request | None:
        """The next request, or None once the client has closed the connection."""
        head = self._read_head()
        if head is None:
            return None
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        parts = request_line.split()
        if len(parts) != 3:
            raise BadRequest("400 Bad Request", "malformed request line")
        headers = _parse_headers(header_lines)
        if "transfer-encoding" in headers:
            raise BadRequest("411 Length Required", "send a Content-Length, not chunks")
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise BadRequest("400 Bad Request", "malformed Content-Length") from None
        if length > 0 and headers.get("expect", "").lower() == "100-continue":
            self._conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
        body = self._read_body(length) if length > 0 else b""
        if body is None:
            return None
        return Request(parts[0], parts[1], parts[2], headers, body)

    def _read_head(self) -> bytes | None:
        while True:
            end = self._buffer.find(HEAD_END)
            if end >= 0:
                head, self._buffer = self._buffer[:end], self._buffer[end + len(HEAD_END) :]
                head = head.lstrip(b"\r\n")
                if head:
                    return head
                continue
            if len(self._buffer) > MAX_HEAD:
                raise BadRequest("431 Request Header Fields Too Large", "request head too large")
            chunk = self._conn.recv(RECV_SIZE)
            if not chunk:
                return None
            self._buffer += chunk

    def _read_body(self, length: int) -> bytes | None:
        while len(self._buffer) < length:
            chunk = self._conn.recv(max(RECV_SIZE, length - len(self._buffer)))
            if not chunk:
                return None
            self._buffer += chunk
        body, self._buffer = self._buffer[:length], self._buffer[length:]
        return body


def _parse_headers(lines: list[str]) -> dict[str, str]:
    if len(lines) > MAX_HEADERS:
        raise BadRequest("431 Request Header Fields Too Large", "too many headers")
    headers = {}
    for line in lines:
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest("400 Bad Request", "malformed header line")
        headers[name.strip().lower()] = value.strip()
    return headers
