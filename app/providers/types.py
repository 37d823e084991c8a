"""Typed requests and results exchanged with the Dyplsapi provider.

Services speak in these values; only app/providers/aliyun.py turns them into SDK
requests. Each request knows its Alibaba action name and wire parameters, so the
very parameters sent upstream are also what the event history records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Protocol

CHINA_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")
ALIBABA_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

Params = dict[str, str | bool]


def to_china_time(moment: datetime) -> str:
    """Alibaba's business times are `yyyy-MM-dd HH:mm:ss` in Beijing time, zone implied."""
    return moment.astimezone(CHINA_TIME).strftime(ALIBABA_TIME_FORMAT)


def from_china_time(text: str) -> datetime:
    return datetime.strptime(text, ALIBABA_TIME_FORMAT).replace(tzinfo=CHINA_TIME)


def _settle_params(request: object, **params: str | bool | None) -> None:
    """Set a frozen request's `params`, absent values dropped: an SDK setter given None
    sends the string "None"."""
    present = {name: value for name, value in params.items() if value is not None}
    object.__setattr__(request, "params", present)


@dataclass(frozen=True, slots=True)
class BindRequest:
    type: str
    pool_key: str
    phone_a: str
    phone_b: str | None
    expires_at: datetime
    phone_x: str | None = None
    expect_city: str | None = None
    record_calls: bool = False
    out_id: str | None = None
    call_restrict: str | None = None
    params: Params = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """The wire parameters are made once: the history records the very dict the SDK
        sends, and Alibaba's time is formatted once per request, not once per reader."""
        _settle_params(
            self,
            PoolKey=self.pool_key,
            PhoneNoA=self.phone_a,
            PhoneNoB=self.phone_b,
            PhoneNoX=self.phone_x,
            Expiration=to_china_time(self.expires_at),
            ExpectCity=self.expect_city,
            IsRecordingEnabled=self.record_calls,
            OutId=self.out_id,
            CallRestrict=self.call_restrict,
        )

    @property
    def action(self) -> str:
        return "BindAxb" if self.type == "AXB" else "BindAxn"


@dataclass(frozen=True, slots=True)
class SubscriptionRef:
    """What Alibaba needs to find one binding: pool, SubsId and its X."""

    pool_key: str
    subs_id: str
    phone_x: str


@dataclass(frozen=True, slots=True)
class UpdateRequest:
    """One UpdateSubscription operation; exactly one of the values is set."""

    ref: SubscriptionRef
    operation: str
    phone_a: str | None = None
    phone_b: str | None = None
    expires_at: datetime | None = None
    call_restrict: str | None = None
    params: Params = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Made once, as BindRequest's are."""
        _settle_params(
            self,
            PoolKey=self.ref.pool_key,
            SubsId=self.ref.subs_id,
            PhoneNoX=self.ref.phone_x,
            OperateType=self.operation,
            PhoneNoA=self.phone_a,
            PhoneNoB=self.phone_b,
            Expiration=to_china_time(self.expires_at) if self.expires_at else None,
            CallRestrict=self.call_restrict,
        )

    @property
    def action(self) -> str:
        return f"UpdateSubscription.{self.operation}"


# UnbindSubscription's parameters, each named by the SubscriptionRef field (and bindings
# column) it comes from, so the database can build them from a row too.
UNBIND_FIELDS = {"PoolKey": "pool_key", "SubsId": "subs_id", "SecretNo": "phone_x"}


class Subscribed(Protocol):
    """Anything naming a subscription the way a SubscriptionRef does: the ref itself, or a
    bindings row (whose columns carry the same names)."""

    pool_key: str
    subs_id: str
    phone_x: str


def unbind_params(ref: Subscribed) -> Params:
    return {param: getattr(ref, field) for param, field in UNBIND_FIELDS.items()}


def detail_params(ref: SubscriptionRef) -> Params:
    return {"PoolKey": ref.pool_key, "SubsId": ref.subs_id, "PhoneNoX": ref.phone_x}


def subs_id_params(pool_key: str, phone_x: str) -> Params:
    return {"PoolKey": pool_key, "PhoneNoX": phone_x}


def call_status_params(ref: SubscriptionRef, caller: str) -> Params:
    return {"PoolKey": ref.pool_key, "SubsId": ref.subs_id, "CallNo": caller}


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    """The facts about one upstream call that the event history keeps."""

    action: str
    params: Params
    code: str | None
    request_id: str | None
    latency_ms: float


@dataclass(frozen=True, slots=True)
class Bound:
    subs_id: str
    phone_x: str
    extension: str | None


@dataclass(frozen=True, slots=True)
class SubscriptionDetail:
    subs_id: str
    phone_a: str | None
    phone_b: str | None
    phone_x: str
    active: bool
    expires_at: datetime | None
    record_calls: bool | None
    call_restrict: str | None


@dataclass(frozen=True, slots=True)
class CallStatus:
    status: int
    called_no: str | None
