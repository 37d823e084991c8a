"""Contract §4: every Alibaba answer that is not OK maps to one gateway error here.

Business errors (HTTP 200 with Code != OK) and platform errors (SDK exceptions)
go through the same table, so a code means the same thing whichever way it came.
"""

from __future__ import annotations

from app.errors import (
    BindConflict,
    GatewayError,
    NoAvailableNumber,
    SubscriptionGone,
    UnknownNumber,
    UpstreamFailed,
    UpstreamForbidden,
    UpstreamInfo,
    UpstreamMisconfigured,
    UpstreamRateLimited,
    UpstreamRejectedInput,
)

RETRY_AFTER_THROTTLED_S = 1

BY_CODE: dict[str, type[GatewayError]] = {
    "isv.ILLEGAL_ARGUMENT": UpstreamRejectedInput,
    "isv.INVALID_PARAMETERS": UpstreamRejectedInput,
    "isv.MOBILE_NUMBER_ILLEGAL": UpstreamRejectedInput,
    "isv.EXPIRE_DATE_ILLEGAL": UpstreamRejectedInput,
    "isv.POOLKEY_NOT_EXISTS": UpstreamRejectedInput,
    "isv.POOLKEY_NOT_EXIST": UpstreamRejectedInput,
    "isv.NO_AVAILABLE_NUMBER": NoAvailableNumber,
    "isv.BIND_CONFLICT": BindConflict,
    "isv.UPDATE_CONFLICT": BindConflict,
    "isv.NO_USED_BY_OTHERS": BindConflict,
    "isv.FORBIDDEN_ACTION": UpstreamForbidden,
    "isv.SUBS_NOT_EXIST": SubscriptionGone,
    "isv.NO_NOT_EXIST": UnknownNumber,
    "isv.FLOW_LIMIT": UpstreamRateLimited,
    "isp.RAM_PERMISSION_DENY": UpstreamMisconfigured,
    "Forbidden.RAM": UpstreamMisconfigured,
    "isv.OUT_OF_SERVICE": UpstreamMisconfigured,
    "isv.PRODUCT_UN_SUBSCRIPT": UpstreamMisconfigured,
    "isv.PRODUCT_UNSUBSCRIBE": UpstreamMisconfigured,
    "isv.ACCOUNT_NOT_EXISTS": UpstreamMisconfigured,
    "isv.ACCOUNT_ABNORMAL": UpstreamMisconfigured,
    "isv.PARTNER_NOT_EXIST": UpstreamMisconfigured,
    "isv.PARTNER_IS_CLOSED": UpstreamMisconfigured,
    "SignatureDoesNotMatch": UpstreamMisconfigured,
    "InvalidAccessKeySecret": UpstreamMisconfigured,
    "IncompleteSignature": UpstreamMisconfigured,
    "SDK.InvalidCredential": UpstreamMisconfigured,
    "SDK.EndpointResolvingError": UpstreamMisconfigured,
}

BY_PREFIX: tuple[tuple[str, type[GatewayError]], ...] = (
    ("Throttling", UpstreamRateLimited),
    ("InvalidAccessKeyId", UpstreamMisconfigured),
    ("InvalidTimeStamp", UpstreamMisconfigured),
    ("InvalidSecurityToken", UpstreamMisconfigured),
    ("Missing", UpstreamRejectedInput),
    ("InvalidParameter", UpstreamRejectedInput),
)

# Codes worth a second try for reads: the platform stumbled, the request was fine.
TRANSIENT_CODES = frozenset(
    {
        "isp.SYSTEM_ERROR",
        "isp.DAO_EXCEPTION",
        "isp.UNKNOWN_ERR_CODE",
        "isp.GATEWAY_ERROR",
        "isp.VENDOR_UNAVAILABLE",
        "InternalError",
        "ServiceUnavailable",
    }
)


def error_for(upstream: UpstreamInfo) -> GatewayError:
    """The gateway error for an Alibaba code; unknown codes are upstream errors (502)."""
    kind = BY_CODE.get(upstream.code)
    if kind is None:
        kind = next((k for p, k in BY_PREFIX if upstream.code.startswith(p)), UpstreamFailed)
    retry_after = RETRY_AFTER_THROTTLED_S if kind is UpstreamRateLimited else None
    return kind(upstream.message, upstream=upstream, retry_after=retry_after)
