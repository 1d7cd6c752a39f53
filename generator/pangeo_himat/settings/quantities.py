"""Kubernetes resource quantities, parsed to the integer units the fit model works in."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18}
_NUMBER = r"\d+(\.\d+)?|\.\d+"

CPU_PATTERN = rf"^({_NUMBER})m?$"
MEMORY_PATTERN = rf"^({_NUMBER})(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$"


def cpu_millicores(quantity: str | int | float) -> int:
    """`400m` -> 400, `1.5` -> 1500, `2` -> 2000 (fractions of a millicore round up)."""
    text = str(quantity).strip()
    if not re.match(CPU_PATTERN, text):
        raise ValueError(f"{quantity!r} is not a CPU quantity")
    if text.endswith("m"):
        return int(-(-Decimal(text[:-1]) // 1))
    return int(-(-(Decimal(text) * 1000) // 1))


def memory_bytes(quantity: str | int | float) -> int:
    """`1600Mi` -> 1677721600, `2G` -> 2000000000, a bare number is bytes."""
    text = str(quantity).strip()
    match = re.match(MEMORY_PATTERN, text)
    if not match:
        raise ValueError(f"{quantity!r} is not a memory quantity")
    suffix = match.group(3) or ""
    number = text[: len(text) - len(suffix)]
    try:
        value = Decimal(number)
    except InvalidOperation as error:
        raise ValueError(f"{quantity!r} is not a memory quantity") from error
    factor = _BINARY.get(suffix) or _DECIMAL[suffix]
    return int(value * factor)


def memory_mib(quantity: str | int | float) -> int:
    """Memory in whole MiB, rounded down (a request never grows by rounding)."""
    return memory_bytes(quantity) // 2**20


def format_cpu(millicores: int) -> str:
    """400 -> `400m`, 2000 -> `2`."""
    return str(millicores // 1000) if millicores % 1000 == 0 else f"{millicores}m"


def format_millicores(millicores: int) -> str:
    """400 -> `400m`, 2000 -> `2000m`: one unit for every CPU figure `himat fit` prints."""
    return f"{millicores}m"


def format_mib(mib: int) -> str:
    """1600 -> `1600Mi`, 16384 -> `16Gi`."""
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


DURATION_PATTERN = r"^([0-9]+)([smh])$"
_DURATION_UNIT_S = {"s": 1, "m": 60, "h": 3600}


def duration_s(duration: str) -> int:
    """`90s` -> 90, `30m` -> 1800, `8h` -> 28800: the settings' idle timers in seconds."""
    match = re.match(DURATION_PATTERN, duration.strip())
    if not match:
        raise ValueError(f"{duration!r} is not a duration")
    return int(match.group(1)) * _DURATION_UNIT_S[match.group(2)]
