"""Value types shared by every part of the configuration schema: durations, sizes, strict models."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from email.utils import parseaddr

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgtp]?i?b?)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4, "p": 1000**5,
               "ki": 1024, "mi": 1024**2, "gi": 1024**3, "ti": 1024**4, "pi": 1024**5}


def parse_duration(value: object) -> timedelta:
    """Given 90, '90s', '15m', '2h', '1d' or '1w', return a timedelta; raise ValueError otherwise."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30s, 15m, 2h or 1d")
    if isinstance(value, (int, float)):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"'{value}' is not a duration; use e.g. 30s, 15m, 2h, 1d")
    return timedelta(seconds=float(match.group(1)) * _DURATION_UNITS[match.group(2) or "s"])


def parse_size(value: object) -> int:
    """Given 1048576, '500MB', '10GiB' or '2T', return a number of bytes; raise ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("expected a size such as 500MB or 10GiB")
    if isinstance(value, int):
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"'{value}' is not a size; use e.g. 500MB or 10GiB")
    unit = (match.group(2) or "").lower().removesuffix("b")
    if unit not in _SIZE_UNITS:
        raise ValueError(f"'{value}' has an unknown unit")
    return int(float(match.group(1)) * _SIZE_UNITS[unit])


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Size = Annotated[int, BeforeValidator(parse_size)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_address(value: str) -> str:
    """Given 'ops@example.com' or 'Ops <ops@example.com>', return it; raise ValueError if it is no address."""
    if "\n" in value or "\r" in value:
        raise ValueError("an e-mail address cannot contain a line break")
    _, address = parseaddr(value)
    local, _, domain = address.partition("@")
    if not local or not domain or " " in address:
        raise ValueError(f"'{value}' is not an e-mail address")
    return value


EmailAddress = Annotated[str, AfterValidator(check_address)]
