"""`python -m bench.loadgen`: the gateway's load, from its own process, on raw HTTP/1.1.

Why not `requests` or aiohttp: at a few hundred requests per second on a 2-core machine the
client's CPU is taken from the gateway it measures. This speaks just enough HTTP/1.1 over
keep-alive connections (status line, Content-Length, `Connection: close`) and reports the CPU
it spent per request, so a reader can see it was not the bottleneck. It runs on uvloop, the
libuv event loop: on this machine asyncio's own loop took 0.39–0.41 ms of CPU per request
and uvloop's 0.26–0.27, CPU that the gateway beside it gets back when the two cores are
full (docs/performance.md, thirteenth round).

Two modes: `--concurrency C`, C connections each doing POST /v1/bindings then DELETE as fast as
answers come (closed loop); `--rate R`, R requests per second on the `OpenLoopPlan` schedule
(open loop). The bearer token comes from `LOADGEN_TOKEN`, so it never shows in `ps`.

Stdout protocol, read by `bench.load_gateway`: `window-start` and `window-end` when the
measurement window opens and closes (it snapshots /proc then), then one JSON line of results.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable

import uvloop

from bench.load_plan import TTL_SECONDS, OpenLoopPlan, PhoneNumbers
from bench.load_stats import Tally

REQUEST_TIMEOUT_S = 35.0
PAUSE_AFTER_FAILURE_S = 0.01
WINDOW_START = "window-start"
WINDOW_END = "window-end"

Answer = tuple[int, bytes]


class ProtocolError(Exception):
    """An answer this minimal parser cannot read (no Content-Length, say): counted as failed."""


class HttpProtocol(asyncio.Protocol):
    """One keep-alive connection, one request in flight; parses only what the bench needs."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes, bool]] | None = None
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionError("the gateway closed the connection"))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._waiter is None or self._waiter.done():
            return
        try:
            answer = self._parse()
        except (ProtocolError, ValueError) as error:
            self._fail(error)
            return
        if answer is not None:
            self._waiter.set_result(answer)

    def _parse(self) -> tuple[int, bytes, bool] | None:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = bytes(self._buffer[:end]).lower()
        start = head.find(b"\r\ncontent-length:")
        if start < 0:
            raise ProtocolError("a response without Content-Length")
        stop = head.find(b"\r\n", start + 2)
        length = int(head[start + 17 : stop if stop > 0 else None])
        total = end + 4 + length
        if len(self._buffer) < total:
            return None
        body = bytes(self._buffer[end + 4 : total])
        del self._buffer[:total]
        return int(head[9:12]), body, b"\r\nconnection: close" in head

    def _fail(self, error: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)

    async def exchange(self, request: bytes) -> tuple[int, bytes, bool]:
        """(status, body, server closes) for one request; a timeout or a close raises."""
        if self.closed or self.transport is None:
            raise ConnectionError("the connection is closed")
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        timer = loop.call_later(REQUEST_TIMEOUT_S, self._fail, TimeoutError("no answer in time"))
        self.transport.write(request)
        try:
            return await self._waiter
        finally:
            timer.cancel()


class GatewayClient:
    """A connection that reopens itself; requests carry the bench client's token."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self._host, self._port = host, port
        self._protocol: HttpProtocol | None = None
        self._headers = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\n"

    async def _send(self, request: bytes) -> Answer:
        if self._protocol is None or self._protocol.closed:
            loop = asyncio.get_running_loop()
            _, self._protocol = await loop.create_connection(HttpProtocol, self._host, self._port)
        try:
            status, body, closing = await self._protocol.exchange(request)
        except BaseException:
            self.close()
            raise
        if closing:
            self.close()
        return status, body

    def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            self._protocol.transport.close()
        self._protocol = None

    async def create(self, pool_key: str, phones: PhoneNumbers) -> Answer:
        phone_a, phone_b = phones.pair()
        body = json.dumps(
            {
                "type": "AXB",
                "pool_key": pool_key,
                "phone_a": phone_a,
                "phone_b": phone_b,
                "ttl_seconds": TTL_SECONDS,
            }
        ).encode()
        head = (
            f"POST /v1/bindings HTTP/1.1\r\n{self._headers}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        return await self._send(head.encode() + body)

    async def delete(self, binding_id: str) -> Answer:
        head = (
            f"DELETE /v1/bindings/{binding_id} HTTP/1.1\r\n{self._headers}Content-Length: 0\r\n\r\n"
        )
        return await self._send(head.encode())


async def timed(
    tally: Tally, label: str, expected: int, due: float | None, call: Awaitable[Answer]
) -> Answer | None:
    """Run one request and record it; the answer if it had the `expected` status, else None."""
    sent = time.monotonic()
    key = id(call)
    tally.sending(key, sent)
    try:
        status, body = await call
    except (OSError, TimeoutError, ProtocolError, ValueError) as error:
        outcome = "timeout" if isinstance(error, TimeoutError) else "connection-error"
        tally.record(sent, time.monotonic(), due, f"{label} {outcome}", ok=False)
        await asyncio.sleep(PAUSE_AFTER_FAILURE_S)
        return None
    finally:
        tally.answered(key)
    tally.record(sent, time.monotonic(), due, f"{label} {status}", ok=status == expected)
    return (status, body) if status == expected else None


def _binding_id(answer: Answer | None) -> str | None:
    return json.loads(answer[1])["id"] if answer else None


async def closed_loop(
    client: GatewayClient, tally: Tally, pool_key: str, phones: PhoneNumbers
) -> None:
    """POST then DELETE until the window closes; the pair in flight then finishes, unmeasured."""
    while time.monotonic() < tally.end:
        created = await timed(tally, "POST", 201, None, client.create(pool_key, phones))
        binding_id = _binding_id(created)
        if binding_id:
            await timed(tally, "DELETE", 200, None, client.delete(binding_id))
    client.close()


class ClientPool:
    """Idle keep-alive connections for the open loop; a new one opens when all are busy."""

    def __init__(self, host: str, port: int, token: str) -> None:
        self._args = (host, port, token)
        self._idle: list[GatewayClient] = []

    async def run(self, make_call: Callable[[GatewayClient], Awaitable[Answer]]) -> Answer:
        client = self._idle.pop() if self._idle else GatewayClient(*self._args)
        try:
            return await make_call(client)
        finally:
            self._idle.append(client)

    def close(self) -> None:
        for client in self._idle:
            client.close()


async def open_loop(
    plan: OpenLoopPlan, pool: ClientPool, tally: Tally, start: float, pool_key: str
) -> None:
    """Send each slot when it is due, whatever the previous ones are doing."""
    phones = PhoneNumbers()
    created: dict[int, asyncio.Task] = {}
    running: set[asyncio.Task] = set()

    async def bind(due: float) -> str | None:
        call = pool.run(lambda client: client.create(pool_key, phones))
        return _binding_id(await timed(tally, "POST", 201, due, call))

    async def unbind(due: float, binding: asyncio.Task) -> None:
        binding_id = await binding
        if binding_id:
            await timed(tally, "DELETE", 200, due, pool.run(lambda c: c.delete(binding_id)))

    for slot in plan.slots:
        due = start + plan.due(slot)
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        target = plan.deleted_binding(slot)
        if plan.binds(slot):
            task = created[slot] = asyncio.create_task(bind(due))
        elif target is not None:
            task = asyncio.create_task(unbind(due, created.pop(target)))
        else:
            continue
        running.add(task)
        task.add_done_callback(running.discard)
    await asyncio.gather(*running)
    pool.close()


def _announce(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def run(args: argparse.Namespace, token: str) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    start = time.monotonic()
    if args.rate:
        plan = OpenLoopPlan(args.rate, args.warmup, args.duration)
        tally = Tally(*plan.window(start))
    else:
        tally = Tally(start + args.warmup, start + args.warmup + args.duration)
    cpu: list[float] = []

    def mark(line: str) -> None:
        cpu.append(time.process_time())
        if line == WINDOW_END:
            tally.close_window()
        _announce(line)

    loop.call_at(tally.start, mark, WINDOW_START)
    loop.call_at(tally.end, mark, WINDOW_END)
    if args.rate:
        await open_loop(plan, ClientPool(args.host, args.port, token), tally, start, args.pool_key)
    else:
        phones = PhoneNumbers()
        clients = [GatewayClient(args.host, args.port, token) for _ in range(args.concurrency)]
        await asyncio.gather(*(closed_loop(c, tally, args.pool_key, phones) for c in clients))
    summary = tally.summary()
    cpu_s = cpu[1] - cpu[0] if len(cpu) == 2 else float("nan")
    summary["cpu_ms_per_req"] = round(cpu_s * 1000 / max(tally.requests, 1), 4)
    return summary


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.loadgen", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pool-key", required=True)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--concurrency", type=int, help="closed loop: this many connections")
    mode.add_argument("--rate", type=float, help="open loop: this many requests per second")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--duration", type=float, required=True)
    return parser.parse_args(argv)


def main() -> int:
    args = parse_args(sys.argv[1:])
    token = os.environ.get("LOADGEN_TOKEN")
    if not token:
        print("bench.loadgen: LOADGEN_TOKEN must hold the gateway client's token", file=sys.stderr)
        return 2
    _announce(json.dumps(uvloop.run(run(args, token))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
