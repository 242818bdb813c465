"""Argument checks shared by the commands of ``engine.Engine``: who acts, aware
date/times and JSON-serialisable data. Each refusal is an ``InvalidArgument``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.clock import require_aware
from engine.errors import InvalidArgument


def _actor(by: object, what: str = "by") -> str:
    if not isinstance(by, str) or not by.strip():
        raise InvalidArgument(f"{what} must name who acts (a non-empty string), got {by!r}")
    return by.strip()


def _aware(value: datetime | None, what: str) -> datetime | None:
    if value is None:
        return None
    return require_aware(value, what)


def _json_data(data: object, what: str = "data") -> dict[str, Any]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise InvalidArgument(f"{what} must be a mapping, not {type(data).__name__}")
    try:
        text = json.dumps(dict(data), allow_nan=False)
    except (TypeError, ValueError) as err:
        raise InvalidArgument(f"{what} is not JSON-serialisable: {err}") from None
    loaded: dict[str, Any] = json.loads(text)
    return loaded
