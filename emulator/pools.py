"""Number pools (the X numbers an account owns) and the stock still for sale, from JSON or built in.

File format (the same shape is accepted as a dict by `create_app(pools=...)`):

    {"pools": [{"key": "FC100000000000001",
                "numbers": [{"number": "17005710001", "city": "杭州", "locked": false}]}],
     "stock": {"杭州": 1200}}
"""

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from emulator import DEFAULT_POOL_KEY

DEFAULT_CITIES = {"杭州": "0571", "北京": "0010", "上海": "0021", "广州": "0020", "深圳": "0755"}
NUMBERS_PER_CITY = 50
DEFAULT_STOCK = {"杭州": 1200, "北京": 1500, "上海": 1400, "广州": 900, "深圳": 1000, "武汉": 600}


@dataclass(frozen=True)
class SecretNumber:
    """One X number of a pool; a locked number is never auto-selected but may still be pinned."""

    number: str
    city: str
    locked: bool = False


@dataclass(frozen=True)
class Pool:
    key: str
    numbers: tuple[SecretNumber, ...]
    _by_number: dict[str, SecretNumber] = field(init=False, repr=False, compare=False)
    _selectable: dict[str | None, tuple[str, ...]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_number = {n.number: n for n in self.numbers}
        selectable: dict[str | None, list[str]] = {None: []}
        for n in self.numbers:
            if not n.locked:
                selectable[None].append(n.number)
                selectable.setdefault(n.city, []).append(n.number)
        object.__setattr__(self, "_by_number", by_number)
        object.__setattr__(self, "_selectable", {k: tuple(v) for k, v in selectable.items()})

    def find(self, number: str) -> SecretNumber | None:
        return self._by_number.get(number)

    def selectable(self, city: str | None = None) -> tuple[str, ...]:
        """Unlocked numbers, of one city or (city None) of the whole pool."""
        return self._selectable.get(city, ())


@dataclass(frozen=True)
class Catalog:
    """Everything configured up front: the account's pools and the stock QuerySecretNoRemain sees."""

    pools: dict[str, Pool]
    stock: dict[str, int]


def default_catalog() -> Catalog:
    numbers = tuple(
        SecretNumber(f"170{tag}{i:04d}", city)
        for city, tag in DEFAULT_CITIES.items()
        for i in range(1, NUMBERS_PER_CITY + 1)
    )
    return Catalog({DEFAULT_POOL_KEY: Pool(DEFAULT_POOL_KEY, numbers)}, dict(DEFAULT_STOCK))


def load_catalog(source: str | os.PathLike[str] | Mapping[str, object] | None) -> Catalog:
    """None gives the built-in pool; a path is read as JSON; a mapping is taken as already read."""
    if source is None:
        return default_catalog()
    if isinstance(source, Mapping):
        return catalog_from_dict(source)
    with open(source, encoding="utf-8") as handle:
        return catalog_from_dict(json.load(handle))


def catalog_from_dict(data: Mapping[str, object]) -> Catalog:
    pools_data = data.get("pools")
    if not isinstance(pools_data, list) or not pools_data:
        raise ValueError("pools file: 'pools' must be a non-empty list")
    pools = [_pool_from_dict(item) for item in pools_data]
    stock = data.get("stock", DEFAULT_STOCK)
    if not isinstance(stock, dict) or not all(isinstance(v, int) for v in stock.values()):
        raise ValueError("pools file: 'stock' must map city names to integers")
    return Catalog({pool.key: pool for pool in pools}, dict(stock))


def _pool_from_dict(data: object) -> Pool:
    if not isinstance(data, dict) or not isinstance(data.get("key"), str):
        raise ValueError("pools file: every pool needs a string 'key'")
    numbers = data.get("numbers")
    if not isinstance(numbers, list) or not numbers:
        raise ValueError(f"pools file: pool {data['key']} needs a non-empty 'numbers' list")
    return Pool(data["key"], tuple(_number_from_dict(data["key"], item) for item in numbers))


def _number_from_dict(pool_key: str, data: object) -> SecretNumber:
    if not isinstance(data, dict):
        raise ValueError(f"pools file: pool {pool_key}: each number must be an object")
    number, city, locked = data.get("number"), data.get("city"), data.get("locked", False)
    if not isinstance(number, str) or not number.isdigit():
        raise ValueError(f"pools file: pool {pool_key}: 'number' must be a digit string")
    if not isinstance(city, str) or not city:
        raise ValueError(f"pools file: pool {pool_key}: number {number} needs a 'city'")
    if not isinstance(locked, bool):
        raise ValueError(f"pools file: pool {pool_key}: 'locked' of {number} must be true/false")
    return SecretNumber(number, city, locked)
