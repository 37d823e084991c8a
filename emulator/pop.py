"""The checks Alibaba's API gateway (POP) runs before a call reaches Dyplsapi itself.

They answer with platform errors (HTTP 4xx, `HostId`/`Recommend` envelope), which the SDK raises as
`ServerException`; the order follows what the gateway can know at each step.
"""

import hmac
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping

from emulator.formats import parse_utc_timestamp
from emulator.protocol import PlatformError, missing_parameter, sign, string_to_sign

COMMON_PARAMETERS = (
    "Action",
    "Version",
    "AccessKeyId",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureNonce",
    "Timestamp",
    "Signature",
)
REPLAY_WINDOW_S = 15 * 60
NONCE_MEMORY = 200_000


class NonceLedger:
    """Nonces seen in the last 15 minutes; capped so a long benchmark cannot grow it forever."""

    def __init__(self, clock: Callable[[], float], capacity: int = NONCE_MEMORY) -> None:
        self._clock = clock
        self._capacity = capacity
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_use(self, nonce: str) -> bool:
        now = self._clock()
        with self._lock:
            while self._seen and next(iter(self._seen.values())) < now - REPLAY_WINDOW_S:
                self._seen.popitem(last=False)
            if nonce in self._seen:
                return False
            self._seen[nonce] = now
            if len(self._seen) > self._capacity:
                self._seen.popitem(last=False)
            return True

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()


class Gatekeeper:
    """Authenticates a call: parameters present, key known, signature right, fresh, not replayed."""

    def __init__(self, access_keys: Mapping[str, str], clock: Callable[[], float]) -> None:
        self._access_keys = dict(access_keys)
        self._clock = clock
        self.nonces = NonceLedger(clock)

    @staticmethod
    def require_common(params: Mapping[str, str]) -> None:
        for name in COMMON_PARAMETERS:
            if not params.get(name):
                raise missing_parameter(name)

    def authenticate(self, method: str, params: Mapping[str, str]) -> None:
        """Raise the PlatformError Alibaba would answer with, or return if the caller is genuine."""
        secret = self._access_keys.get(params["AccessKeyId"])
        if secret is None:
            raise PlatformError(
                404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."
            )
        self._check_signature(method, params, secret)
        self._check_timestamp(params["Timestamp"])
        if not self.nonces.first_use(params["SignatureNonce"]):
            raise PlatformError(
                400, "SignatureNonceUsed", "Specified signature nonce was used already."
            )

    def _check_signature(self, method: str, params: Mapping[str, str], secret: str) -> None:
        """The message carries our string-to-sign after a colon: the SDK compares it with its own."""
        expected_text = string_to_sign(method, params)
        signature = params["Signature"].encode()
        if not hmac.compare_digest(sign(expected_text, secret).encode(), signature):
            raise PlatformError(
                400,
                "SignatureDoesNotMatch",
                "Specified signature is not matched with our calculation. "
                f"server string to sign is:{expected_text}",
            )

    def _check_timestamp(self, text: str) -> None:
        sent_at = parse_utc_timestamp(text)
        if sent_at is None:
            raise PlatformError(
                400,
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted.",
            )
        if abs(self._clock() - sent_at) > REPLAY_WINDOW_S:
            raise PlatformError(
                400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."
            )
