"""The official SDK pointed at an emulator, as the gateway will use it, for the emulator's tests."""

import json
import time
from collections.abc import Callable, Mapping

from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest
from aliyunsdkdyplsapi.request.v20170525.BindAxbRequest import BindAxbRequest
from aliyunsdkdyplsapi.request.v20170525.BindAxnRequest import BindAxnRequest
from aliyunsdkdyplsapi.request.v20170525.QuerySecretNoRemainRequest import (
    QuerySecretNoRemainRequest,
)
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

from emulator import DEFAULT_POOL_KEY, SANDBOX_ACCESS_KEY_ID, SANDBOX_ACCESS_KEY_SECRET
from emulator.formats import format_china_time

OTHER_ACCESS_KEY_ID = "second-access-key-id"
OTHER_ACCESS_KEY_SECRET = "second-access-key-secret"
ACCESS_KEYS = {
    SANDBOX_ACCESS_KEY_ID: SANDBOX_ACCESS_KEY_SECRET,
    OTHER_ACCESS_KEY_ID: OTHER_ACCESS_KEY_SECRET,
}


class FakeClock:
    """Real time plus an offset, so a test can jump past an expiry without waiting for it."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class Dypls:
    """The official SDK against one emulator; each method is one action and returns the JSON body.

    Business errors come back as HTTP 200 with `Code != "OK"`, so they are in the returned body;
    platform errors and transport failures are raised by the SDK itself.
    """

    def __init__(
        self,
        port: int,
        clock: Callable[[], float],
        key_id: str = SANDBOX_ACCESS_KEY_ID,
        secret: str = SANDBOX_ACCESS_KEY_SECRET,
        **client_options: object,
    ) -> None:
        self.client = AcsClient(
            key_id,
            secret,
            "cn-hangzhou",
            port=port,
            proxy={"http": None, "https": None},
            **client_options,
        )
        self.client.add_endpoint("cn-hangzhou", "Dyplsapi", "127.0.0.1")
        self._clock = clock

    def expiration(self, seconds_ahead: float) -> str:
        """An `Expiration` value, in China time, `seconds_ahead` of the emulator's clock."""
        return format_china_time(self._clock() + seconds_ahead)

    def send(self, request_class: type, **params: object) -> dict:
        """Only the given parameters are set: the SDK would send a None as the text "None"."""
        request = request_class()
        for name, value in params.items():
            getattr(request, f"set_{name}")(value)
        return json.loads(self.client.do_action_with_exception(request))

    def bind_axb(self, **params: object) -> dict:
        return self.send(BindAxbRequest, **self._with_pool(params, Expiration=self.expiration(600)))

    def bind_axn(self, **params: object) -> dict:
        return self.send(BindAxnRequest, **self._with_pool(params, Expiration=self.expiration(600)))

    def unbind(self, **params: object) -> dict:
        return self.send(UnbindSubscriptionRequest, **self._with_pool(params))

    def update(self, **params: object) -> dict:
        return self.send(UpdateSubscriptionRequest, **self._with_pool(params))

    def detail(self, **params: object) -> dict:
        return self.send(QuerySubscriptionDetailRequest, **self._with_pool(params))

    def subs_id(self, **params: object) -> dict:
        return self.send(QuerySubsIdRequest, **self._with_pool(params))

    def remain(self, **params: object) -> dict:
        return self.send(QuerySecretNoRemainRequest, **params)

    def call_status(self, **params: str) -> dict:
        """QueryCallStatus is not in SDK 1.3.5: `CommonRequest` is how the gateway reaches it."""
        return self.common("QueryCallStatus", **self._with_pool(params))

    def common(
        self,
        action: str,
        *,
        method: str = "POST",
        form: Mapping[str, str] | None = None,
        **params: str,
    ) -> dict:
        """Any action, as `CommonRequest` sends it: query parameters, and optionally a form body."""
        request = CommonRequest(
            domain="127.0.0.1", version="2017-05-25", action_name=action, product="Dyplsapi"
        )
        request.set_method(method)
        for name, value in params.items():
            request.add_query_param(name, value)
        for name, value in (form or {}).items():
            request.add_body_params(name, value)
        return json.loads(self.client.do_action_with_exception(request))

    @staticmethod
    def _with_pool(params: Mapping[str, object], **defaults: object) -> dict[str, object]:
        return {"PoolKey": DEFAULT_POOL_KEY, **defaults, **params}
