"""The baseline: the official SDK called from threads of this process, no gateway in between.

The calls are built exactly as `app/providers/aliyun.py` builds them (same request classes,
`add_query_param`, the parameters from `app.providers.types`), so the gateway is compared with
the very SDK work it wraps. Each BindAxb and each UnbindSubscription counts as one call.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import RpcRequest
from aliyunsdkdyplsapi.request.v20170525.BindAxbRequest import BindAxbRequest
from aliyunsdkdyplsapi.request.v20170525.UnbindSubscriptionRequest import (
    UnbindSubscriptionRequest,
)

from app.config import Settings
from app.providers.types import BindRequest, Params, SubscriptionRef, unbind_params
from bench.load_plan import TTL_SECONDS, OpenLoopPlan, PhoneNumbers
from bench.load_proc import CpuUse, CpuWindow
from bench.load_stats import BenchFailed, Tally
from emulator import SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET

T = TypeVar("T")


class Refused(Exception):
    """Alibaba's business errors come back as HTTP 200 with `Code != "OK"`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class DirectSdk:
    """One AcsClient shared by every thread, configured like the gateway's own."""

    def __init__(self, emulator_port: int, pool_key: str, pool_size: int) -> None:
        defaults = Settings()
        self._pool_key = pool_key
        self._endpoint = f"127.0.0.1:{emulator_port}"
        self._phones = PhoneNumbers()
        self._client = AcsClient(
            SANDBOX_ACCESS_KEY_ID,
            SANDBOX_ACCESS_KEY_SECRET,
            defaults.region_id,
            auto_retry=False,
            connect_timeout=defaults.connect_timeout,
            timeout=defaults.read_timeout,
            pool_size=pool_size,
            proxy={"http": None, "https": None},
        )
        # As app/providers/aliyun.py does: no netrc or proxy lookups from the environment on
        # every call. Left on, they made the baseline dearer than the SDK work the gateway does.
        self._client.session.trust_env = False

    def _call(self, request: RpcRequest, params: Params) -> dict:
        request.set_endpoint(self._endpoint)
        request.set_protocol_type("http")
        request.set_method("POST")
        for name, value in params.items():
            request.add_query_param(name, value)
        body = json.loads(self._client.do_action_with_exception(request))
        if body.get("Code") != "OK":
            raise Refused(str(body.get("Code")))
        return body

    def bind(self) -> SubscriptionRef:
        phone_a, phone_b = self._phones.pair()
        request = BindRequest(
            type="AXB",
            pool_key=self._pool_key,
            phone_a=phone_a,
            phone_b=phone_b,
            expires_at=datetime.now(UTC) + timedelta(seconds=TTL_SECONDS),
        )
        dto = self._call(BindAxbRequest(), request.params)["SecretBindDTO"]
        return SubscriptionRef(self._pool_key, str(dto["SubsId"]), str(dto["SecretNo"]))

    def unbind(self, ref: SubscriptionRef) -> None:
        self._call(UnbindSubscriptionRequest(), unbind_params(ref))


def timed(tally: Tally, label: str, due: float | None, call: Callable[[], T]) -> T | None:
    """Run one SDK call and record it; its result, or None when it failed (counted)."""
    sent = time.monotonic()
    try:
        result = call()
    except Refused as error:
        outcome, result = error.code, None
    except (ClientException, ServerException) as error:
        outcome, result = error.get_error_code(), None
    else:
        outcome = "OK"
    tally.record(sent, time.monotonic(), due, f"{label} {outcome}", ok=outcome == "OK")
    return result


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def closed_loop(
    sdk: DirectSdk, concurrency: int, warmup_s: float, duration_s: float, watched: Iterable[int]
) -> tuple[Tally, CpuUse]:
    """`concurrency` threads doing BindAxb then UnbindSubscription; the CPU of `watched` (this
    process, which does nothing else meanwhile, among them) and of the machine over the
    window."""
    start = time.monotonic()
    tally = Tally(start + warmup_s, start + warmup_s + duration_s)
    stopping = threading.Event()

    def loop() -> None:
        while time.monotonic() < tally.end and not stopping.is_set():
            ref = timed(tally, "BindAxb", None, sdk.bind)
            if ref is not None:
                timed(tally, "UnbindSubscription", None, partial(sdk.unbind, ref))

    threads = [threading.Thread(target=loop, daemon=True) for _ in range(concurrency)]
    try:
        for thread in threads:
            thread.start()
        _sleep_until(tally.start)
        window = CpuWindow(watched)
        _sleep_until(tally.end)
        cpu = window.stop()
    finally:
        stopping.set()  # on Ctrl-C too: no thread keeps calling an emulator being stopped
    for thread in threads:
        thread.join()
    return tally, cpu


def open_loop(
    sdk: DirectSdk, plan: OpenLoopPlan, threads: int, watched: Iterable[int]
) -> tuple[Tally, CpuUse]:
    """The fixed-rate schedule through the SDK, each call timed from when it was due; the CPU
    of `watched` and of the machine from the first measured slot's due time to the window's
    end."""
    start = time.monotonic()
    tally = Tally(*plan.window(start))
    created: dict[int, Future[SubscriptionRef | None]] = {}
    window: CpuWindow | None = None
    cpu: CpuUse | None = None

    def unbind(due: float, binding: Future[SubscriptionRef | None]) -> None:
        ref = binding.result()
        if ref is not None:
            timed(tally, "UnbindSubscription", due, partial(sdk.unbind, ref))

    with ThreadPoolExecutor(max_workers=threads) as executor:
        for slot in plan.slots:
            due = start + plan.due(slot)
            _sleep_until(due)
            if window is None and due >= tally.start:
                window = CpuWindow(watched)
            elif window is not None and cpu is None and due >= tally.end:
                cpu = window.stop()
            target = plan.deleted_binding(slot)
            if plan.binds(slot):
                created[slot] = executor.submit(timed, tally, "BindAxb", due, sdk.bind)
            elif target is not None:
                executor.submit(unbind, due, created.pop(target))
    if window is None:
        raise BenchFailed("the fixed-rate plan has no slot inside its window")
    return tally, cpu if cpu is not None else window.stop()
