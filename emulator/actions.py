"""The Dyplsapi actions: the parameters the gateway insists on, and the payload each one returns.

Payload names and shapes are Alibaba's (`SecretBindDTO`, `SecretBindDetailDTO`, ...), because the
gateway reads them out of the SDK's raw response bytes.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from emulator.bindings import AXB, AXN, Binding
from emulator.formats import format_china_time, parse_bool
from emulator.protocol import PlatformError, Reply, business_reply, missing_parameter
from emulator.rules import BindOrder, BusinessError, Registry, update_parameter

API_VERSION = "2017-05-25"
NATIONAL = "全国"
NATIONAL_LIST = "全国列表"
SPEC_IDS = frozenset({"1", "2", "3"})

Payload = dict[str, object]


@dataclass(frozen=True)
class Action:
    required: tuple[str, ...]
    run: Callable[[Registry, Mapping[str, str]], Payload]

    def require(self, params: Mapping[str, str]) -> None:
        """Parameters the API gateway enforces: missing ones are platform errors, not business."""
        for name in self.required:
            if not params.get(name):
                raise missing_parameter(name)

    def perform(self, registry: Registry, params: Mapping[str, str]) -> Reply:
        try:
            return business_reply(payload=self.run(registry, params))
        except BusinessError as error:
            return business_reply(error.code, error.message)


def find_action(params: Mapping[str, str]) -> Action:
    action = ACTIONS.get(params["Action"])
    if action is None or params["Version"] != API_VERSION:
        raise PlatformError(
            404,
            "InvalidApi.NotFound",
            "Specified api is not found, please check your url and method.",
        )
    return action


def _bind(kind: str) -> Callable[[Registry, Mapping[str, str]], Payload]:
    def run(registry: Registry, params: Mapping[str, str]) -> Payload:
        binding = registry.bind(_bind_order(kind, params))
        return {
            "SecretBindDTO": {
                "SubsId": binding.subs_id,
                "SecretNo": binding.phone_x,
                "Extension": _extension(binding),
            }
        }

    return run


def _bind_order(kind: str, params: Mapping[str, str]) -> BindOrder:
    need_record = parse_bool(params.get("IsRecordingEnabled") or "false")
    if need_record is None:
        raise BusinessError("isv.INVALID_PARAMETERS", "IsRecordingEnabled must be true or false")
    return BindOrder(
        kind=kind,
        pool_key=params.get("PoolKey", ""),
        phone_a=params["PhoneNoA"],
        phone_b=params.get("PhoneNoB") or None,
        expiration=params["Expiration"],
        phone_x=params.get("PhoneNoX") or None,
        expect_city=params.get("ExpectCity") or None,
        need_record=need_record,
        call_restrict=params.get("CallRestrict") or None,
        out_id=params.get("OutId") or None,
    )


def _extension(binding: Binding) -> str:
    """Meaningless outside AXN-extension pools; a public capture shows Alibaba echoing A there."""
    return binding.phone_a


def _unbind(registry: Registry, params: Mapping[str, str]) -> Payload:
    registry.unbind(params.get("PoolKey", ""), params["SubsId"], params["SecretNo"])
    return {"ChargeId": "true"}


def _update(registry: Registry, params: Mapping[str, str]) -> Payload:
    operation = params["OperateType"]
    value_param = update_parameter(operation)
    value = params.get(value_param, "") if value_param else ""
    registry.update(
        params.get("PoolKey", ""), params["SubsId"], params["PhoneNoX"], operation, value
    )
    return {}


def _detail(registry: Registry, params: Mapping[str, str]) -> Payload:
    binding, active = registry.detail(
        params.get("PoolKey", ""), params["SubsId"], params["PhoneNoX"]
    )
    detail = {
        "SubsId": binding.subs_id,
        "PhoneNoA": binding.phone_a,
        "PhoneNoB": binding.phone_b,
        "PhoneNoX": binding.phone_x,
        "Status": 1 if active else 0,
        "ExpireDate": format_china_time(binding.expires_at),
        "GmtCreate": format_china_time(binding.created_at),
        "NeedRecord": binding.need_record,
        "CallRestrict": binding.call_restrict,
        "Extension": _extension(binding),
    }
    # Alibaba leaves out what a binding does not have (no B on an AXN, no restriction).
    return {"SecretBindDetailDTO": {k: v for k, v in detail.items() if v is not None}}


def _call_status(registry: Registry, params: Mapping[str, str]) -> Payload:
    phone_x, active = registry.call_status(
        params["PoolKey"], params["SubsId"], params.get("CallNo", "")
    )
    if not active:
        return {"SecretCallStatusDTO": {"Status": 4, "CalledNo": phone_x}}
    status, called_no = registry.dial_advice.get(params["SubsId"]) or (1, phone_x)
    return {"SecretCallStatusDTO": {"Status": status, "CalledNo": called_no}}


def _subs_id(registry: Registry, params: Mapping[str, str]) -> Payload:
    return {"SubsId": ",".join(registry.subs_ids(params.get("PoolKey", ""), params["PhoneNoX"]))}


def _secret_no_remain(registry: Registry, params: Mapping[str, str]) -> Payload:
    """Purchasable stock per city; `全国` totals it and `全国列表` lists the cities that have some."""
    if params["SpecId"] not in SPEC_IDS:
        raise BusinessError("isv.INVALID_PARAMETERS", "SpecId must be 1, 2 or 3")
    city, stock = params["City"], registry.catalog.stock
    listed = []
    if city in (NATIONAL, NATIONAL_LIST):
        amount = sum(stock.values())
        if city == NATIONAL_LIST:
            listed = [{"Amount": n, "City": name} for name, n in stock.items() if n > 0]
    else:
        amount = stock.get(city, 0)
    return {
        "SecretRemainDTO": {"Amount": amount, "City": city, "RemainDTOList": {"remainDTO": listed}}
    }


ACTIONS = {
    "BindAxb": Action(("PhoneNoA", "Expiration"), _bind(AXB)),
    "BindAxn": Action(("PhoneNoA", "Expiration"), _bind(AXN)),
    "UnbindSubscription": Action(("SubsId", "SecretNo"), _unbind),
    "UpdateSubscription": Action(("SubsId", "PhoneNoX", "OperateType"), _update),
    "QuerySubscriptionDetail": Action(("SubsId", "PhoneNoX"), _detail),
    "QueryCallStatus": Action(("PoolKey", "SubsId"), _call_status),
    "QuerySubsId": Action(("PhoneNoX",), _subs_id),
    "QuerySecretNoRemain": Action(("SpecId", "City"), _secret_no_remain),
}
