"""Alibaba's RPC wire protocol: signature v1, parameter parsing and the two JSON envelopes.

Everything here mirrors what `aliyunsdkcore` 2.16.1 sends and parses, so that a byte-level
difference (a dropped blank value, `+` instead of `%20`) shows up as a signature mismatch here
exactly as it would at Alibaba.
"""

import base64
import hashlib
import hmac
import json
import random
import re
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, unquote_plus

HOST_ID = "dyplsapi.aliyuncs.com"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json;charset=utf-8"
RECOMMEND_URL = "https://api.aliyun.com/troubleshoot?q={code}&product=Dyplsapi"
_ids = random.Random()
_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as the SDK ends up with it: `%20` for space, `%2A` for `*`, `~` kept."""
    return value if _UNRESERVED(value) else quote(value, safe="")


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """The text the SDK signs: every parameter but `Signature`, blank values included."""
    canonical = "&".join(
        f"{percent_encode(key)}={percent_encode(value)}"
        for key, value in sorted(params.items())
        if key != "Signature"
    )
    # Encoded pairs hold only unreserved characters, `%`, `=` and `&`: three replaces do what
    # percent_encode would, at a fraction of the cost on this long string.
    encoded = canonical.replace("%", "%25").replace("=", "%3D").replace("&", "%26")
    return f"{method}&%2F&{encoded}"


def sign(text: str, secret: str) -> str:
    """HMAC-SHA1 keyed with `secret + "&"`, as signature v1 has no token part."""
    digest = hmac.new(f"{secret}&".encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signed_query(method: str, params: Mapping[str, str], secret: str) -> str:
    """A query string signed like the SDK's; lets tests craft requests the SDK would refuse to."""
    signature = sign(string_to_sign(method, params), secret)
    pairs = [*params.items(), ("Signature", signature)]
    return "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in pairs)


def parse_params(query: str, body: bytes, content_type: str) -> dict[str, str]:
    """Query string plus form body, blank values kept because the SDK signs `SignatureType=`."""
    params = dict(_pairs(query))
    if body and content_type.startswith(FORM_CONTENT_TYPE):
        params.update(_pairs(body.decode("utf-8", errors="replace")))
    return params


def _pairs(text: str) -> Iterator[tuple[str, str]]:
    """`parse_qsl(keep_blank_values=True)`, decoding the whole text at once when no `&` is
    encoded in it (the usual case), which costs a fraction of decoding pair by pair."""
    if "%26" in text:
        for part in text.split("&"):
            if part:
                key, _, value = part.partition("=")
                yield unquote_plus(key, errors="replace"), unquote_plus(value, errors="replace")
        return
    for part in unquote_plus(text, errors="replace").split("&"):
        if part:
            key, _, value = part.partition("=")
            yield key, value


def new_request_id() -> str:
    """Alibaba's RequestIds are upper-case UUIDs. Not secrets: `random` spares a system call."""
    return str(uuid.UUID(int=_ids.getrandbits(128), version=4)).upper()


@dataclass(frozen=True)
class Reply:
    """One HTTP answer: a status and the JSON object Alibaba would put in the body."""

    status: int
    body: dict[str, object] = field(default_factory=dict)

    @property
    def code(self) -> str:
        return str(self.body.get("Code", ""))

    def encode(self) -> bytes:
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode()


def business_reply(
    code: str = "OK", message: str = "OK", payload: Mapping[str, object] | None = None
) -> Reply:
    """Business answers, errors included, are HTTP 200: the SDK raises nothing for them."""
    body: dict[str, object] = {"RequestId": new_request_id(), "Code": code, "Message": message}
    body.update(payload or {})
    return Reply(200, body)


def platform_reply(status: int, code: str, message: str) -> Reply:
    """The API gateway's (POP) error envelope, which the SDK turns into a ServerException."""
    return Reply(
        status,
        {
            "RequestId": new_request_id(),
            "HostId": HOST_ID,
            "Code": code,
            "Message": message,
            "Recommend": RECOMMEND_URL.format(code=code),
        },
    )


class PlatformError(Exception):
    """Raised by platform checks; carries the HTTP status Alibaba's gateway uses for the code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message

    def reply(self) -> Reply:
        return platform_reply(self.status, self.code, self.message)


def missing_parameter(name: str) -> PlatformError:
    return PlatformError(400, f"Missing{name}", f"{name} is mandatory for this action.")
