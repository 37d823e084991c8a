"""The only module that imports the Alibaba SDK.

It turns typed requests into SDK calls against `DYPLS_ENDPOINT`, and every answer
— OK, a business code in an HTTP 200 body, a platform error, a timeout — into an
`Attempt`: what was called, what came back, and the gateway error if it failed.
Services record every attempt before they act on it, so nothing is called
without leaving an event.
"""

from __future__ import annotations

import json
import logging
import random
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aliyunsdkcore.acs_exception.exceptions import ClientException, ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest, RpcRequest
from aliyunsdkdyplsapi.request.v20170525.BindAxbRequest import BindAxbRequest
from aliyunsdkdyplsapi.request.v20170525.BindAxnRequest import BindAxnRequest
from aliyunsdkdyplsapi.request.v20170525.QuerySubscriptionDetailRequest import (
    QuerySubscriptionDetailRequest,
)
from aliyunsdkdyplsapi.request.v20170525.QuerySubsIdRequest import QuerySubsIdRequest
from aliyunsdkdyplsapi.request.v20170525.UnbindSubscriptionRequest import (
    UnbindSubscriptionRequest,
)
from aliyunsdkdyplsapi.request.v20170525.UpdateSubscriptionRequest import (
    UpdateSubscriptionRequest,
)

from app import metrics, requests
from app.config import KEEPALIVE_IDLE_S, KEEPALIVE_INTERVAL_S, KEEPALIVE_PROBES, Settings
from app.errors import (
    GatewayError,
    UpstreamFailed,
    UpstreamInfo,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from app.providers.attempt import Attempt
from app.providers.breaker import CircuitBreaker
from app.providers.codes import TRANSIENT_CODES, error_for
from app.providers.types import (
    BindRequest,
    Bound,
    CallStatus,
    Params,
    SubscriptionDetail,
    SubscriptionRef,
    UpdateRequest,
    UpstreamCall,
    call_status_params,
    detail_params,
    from_china_time,
    subs_id_params,
    unbind_params,
)

API_VERSION = "2017-05-25"
READ_RETRIES = 2
RETRY_BASE_S = 0.05
TRANSPORT_FAILURE = "SDK.HttpError"
UNHEALTHY = (UpstreamTimeout, UpstreamFailed)
RETRYABLE_READ = TRANSIENT_CODES | {TRANSPORT_FAILURE}
PRODUCT = "Dyplsapi"
UNKNOWN_API = "InvalidApi.NotFound"


def _silence_sdk_logging() -> None:
    """The SDK logs failing URLs, which carry the AccessKeyId and phone numbers."""
    for name in ("aliyunsdkcore", "aliyunsdkcore.client", "aliyunsdkcore.http.http_response"):
        logger = logging.getLogger(name)
        logger.disabled = True
        logger.propagate = False


# The SDK's pooled connections send TCP keepalives, as the database's do (app/__init__.py).
# A NAT table or firewall on the way to Alibaba then keeps its state for a quiet connection
# instead of dropping it silently: a bind sent on such a connection would wait out the read
# timeout into a 504 and a binding left for reconcile. A connection whose far end has gone
# is noticed within a minute, and urllib3 replaces it before use. TCP_NODELAY is urllib3's
# own default, kept. The timings are Linux's options; elsewhere (a laptop's `make run`) the
# system's own keepalive timings apply.
UPSTREAM_SOCKET_OPTIONS = [
    (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),
    (socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
    *(
        (socket.IPPROTO_TCP, getattr(socket, name), value)
        for name, value in (
            ("TCP_KEEPIDLE", KEEPALIVE_IDLE_S),
            ("TCP_KEEPINTVL", KEEPALIVE_INTERVAL_S),
            ("TCP_KEEPCNT", KEEPALIVE_PROBES),
        )
        if hasattr(socket, name)
    ),
]


class AliyunProvider:
    """One thread-safe AcsClient per process, its connection pool sized to the threads."""

    def __init__(self, settings: Settings) -> None:
        _silence_sdk_logging()
        endpoint = settings.endpoint
        self._netloc = endpoint.netloc
        self._scheme = endpoint.scheme
        self._access_key_id = settings.access_key_id
        self._client = AcsClient(
            settings.access_key_id,
            settings.access_key_secret,
            settings.region_id,
            auto_retry=False,
            connect_timeout=settings.connect_timeout,
            timeout=settings.read_timeout,
            pool_size=settings.upstream_pool_size,
            proxy={"http": None, "https": None} if endpoint.is_loopback else None,
        )
        # The SDK reads proxies and its CA bundle itself; the session's own environment
        # lookups (netrc on every call) only cost time.
        self._client.session.trust_env = False
        for adapter in self._client.session.adapters.values():
            adapter.poolmanager.connection_pool_kw["socket_options"] = UPSTREAM_SOCKET_OPTIONS
        self.breaker = CircuitBreaker(settings.circuit_threshold, settings.circuit_cooldown_s)

    def unavailable_for(self) -> int | None:
        """Whole seconds the circuit stays open (for Retry-After), or None when calls may go."""
        return self.breaker.blocked_for()

    def ensure_available(self) -> None:
        """Fail fast (503) while the circuit is open, before any write-ahead work."""
        wait = self.unavailable_for()
        if wait is not None:
            raise UpstreamUnavailable(retry_after=wait)

    def bind(self, request: BindRequest) -> Attempt[Bound]:
        sdk_request = BindAxbRequest() if request.type == "AXB" else BindAxnRequest()
        attempt = self._call(sdk_request, request.action, request.params)
        return attempt.map(lambda body: _bound(body.get("SecretBindDTO") or {}))

    def update(self, request: UpdateRequest) -> Attempt[None]:
        return self._call(UpdateSubscriptionRequest(), request.action, request.params).map(
            lambda _: None
        )

    def unbind(self, ref: SubscriptionRef) -> Attempt[None]:
        attempt = self._call(UnbindSubscriptionRequest(), "UnbindSubscription", unbind_params(ref))
        return attempt.map(lambda _: None)

    def query_detail(self, ref: SubscriptionRef) -> Attempt[SubscriptionDetail]:
        attempt = self._read(
            QuerySubscriptionDetailRequest, "QuerySubscriptionDetail", detail_params(ref)
        )
        return attempt.map(lambda body: _detail(body.get("SecretBindDetailDTO") or {}, ref))

    def query_subs_ids(self, pool_key: str, phone_x: str) -> Attempt[list[str]]:
        """The SubsIds live on one X: the only upstream lookup that does not need a SubsId."""
        attempt = self._read(QuerySubsIdRequest, "QuerySubsId", subs_id_params(pool_key, phone_x))
        return attempt.map(lambda body: [s for s in str(body.get("SubsId") or "").split(",") if s])

    def query_call_status(self, ref: SubscriptionRef, caller: str) -> Attempt[CallStatus]:
        """QueryCallStatus left SDK 1.3.5, so it goes through CommonRequest."""
        attempt = self._read(
            self._call_status_request, "QueryCallStatus", call_status_params(ref, caller)
        )
        return attempt.map(lambda body: _call_status(body.get("SecretCallStatusDTO") or {}))

    def _call_status_request(self) -> CommonRequest:
        return CommonRequest(
            domain=self._netloc, version=API_VERSION, action_name="QueryCallStatus", product=PRODUCT
        )

    def _read(self, make_request: Callable[[], Any], action: str, params: Params) -> Attempt:
        """Reads are safe to repeat: retry transient failures with jittered backoff.
        Every try is kept in the attempt, so every call leaves an event."""
        calls: tuple[UpstreamCall, ...] = ()
        for retry in range(READ_RETRIES + 1):
            attempt = self._call(make_request(), action, params)
            calls += attempt.calls
            transient = attempt.error is not None and attempt.last.code in RETRYABLE_READ
            if not transient or retry == READ_RETRIES or not attempt.calls:
                return Attempt(calls, attempt.value, attempt.error)
            time.sleep(RETRY_BASE_S * 2**retry * (1 + random.random()))
        raise AssertionError("unreachable")

    def _call(self, request: RpcRequest | CommonRequest, action: str, params: Params) -> Attempt:
        wait = self.breaker.wait_s()
        if wait is not None:
            return Attempt(calls=(), error=UpstreamUnavailable(retry_after=wait))
        request.set_endpoint(self._netloc)
        request.set_protocol_type(self._scheme)
        request.set_method("POST")
        for name, value in params.items():
            request.add_query_param(name, value)
        started = time.perf_counter()
        try:
            answer = self._answered(self._client.do_action_with_exception(request))
        except ServerException as exc:
            answer = self._refused(exc.get_error_code(), exc.get_error_msg(), exc.get_request_id())
        except ClientException as exc:
            answer = _Answer(
                code=exc.get_error_code(), error=_transport_error(exc.get_error_code())
            )
        self.breaker.record(healthy=not isinstance(answer.error, UNHEALTHY))
        call = UpstreamCall(
            action=action,
            params=params,
            code=answer.code,
            request_id=answer.request_id,
            latency_ms=round((time.perf_counter() - started) * 1000, 3),
        )
        metrics.observe_upstream(call)
        requests.note_upstream_call(call)
        return Attempt(calls=(call,), value=answer.body, error=answer.error)

    def _answered(self, raw: bytes) -> _Answer:
        """HTTP 2xx: the SDK raised nothing, but the body's Code may still be an error."""
        try:
            body = json.loads(raw)
        except ValueError:
            return _Answer(code=None, error=UpstreamFailed("Alibaba answered with non-JSON"))
        code = str(body.get("Code"))
        if code != "OK":
            return self._refused(code, body.get("Message"), body.get("RequestId"))
        return _Answer(code=code, request_id=body.get("RequestId"), body=body)

    def _refused(self, code: str, message: str | None, request_id: str | None) -> _Answer:
        upstream = UpstreamInfo(
            code=code, message=self._scrub(code, message), request_id=request_id
        )
        return _Answer(code=code, request_id=request_id, error=error_for(upstream))

    def _scrub(self, code: str, message: str | None) -> str | None:
        """Signature errors echo the string-to-sign, which names the AccessKeyId."""
        if message is None:
            return None
        if code in ("SignatureDoesNotMatch", "InvalidAccessKeySecret"):
            message = message.split(":", 1)[0].strip()
        return message.replace(self._access_key_id, "[redacted]")


@dataclass(frozen=True, slots=True)
class _Answer:
    code: str | None
    request_id: str | None = None
    body: dict[str, Any] | None = None
    error: GatewayError | None = None


def _transport_error(code: str) -> GatewayError:
    """Transport failures carry the request URL in their text: only the code is kept."""
    if code == TRANSPORT_FAILURE:
        return UpstreamTimeout()
    return error_for(UpstreamInfo(code=code))


def _bound(dto: dict[str, Any]) -> Bound:
    return Bound(
        subs_id=str(dto.get("SubsId", "")),
        phone_x=str(dto.get("SecretNo", "")),
        extension=dto.get("Extension") or None,
    )


def _detail(dto: dict[str, Any], ref: SubscriptionRef) -> SubscriptionDetail:
    expire = dto.get("ExpireDate")
    return SubscriptionDetail(
        subs_id=str(dto.get("SubsId") or ref.subs_id),
        phone_a=dto.get("PhoneNoA"),
        phone_b=dto.get("PhoneNoB") or None,
        phone_x=str(dto.get("PhoneNoX") or ref.phone_x),
        active=dto.get("Status") == 1,
        expires_at=from_china_time(expire) if expire else None,
        record_calls=dto.get("NeedRecord"),
        call_restrict=dto.get("CallRestrict") or None,
    )


def _call_status(dto: dict[str, Any]) -> CallStatus:
    return CallStatus(status=int(dto.get("Status", 0)), called_no=dto.get("CalledNo") or None)
