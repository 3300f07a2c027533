"""A request as a file: the exact JSON form of a frozen request dataclass, over every field.

``RunRequest`` and ``SearchRequest`` are written once as JSON (``request.json`` /
``search.json`` in their folder) and every reader -- the child process behind ``start_run`` or
``start_search``, ``python -m optimizer run --request FILE``, the cache, the history -- reads that
document back. These two functions are generic over ``dataclasses.fields``, so a new request
field needs no edit here:

* ``request_to_dict``: enums as their values, tuples as lists, nested objects by their own
  ``to_dict()``; numbers are left alone (JSON writes a float's shortest exact form, so
  ``0.1234567`` and ``3.0000000000000004`` come back bit for bit);
* ``request_from_dict``: lists back to tuples and nested dicts through their type's
  ``from_dict`` (from the field's annotation); enums are restored by the request's own
  validation; an unknown or missing key raises ``ValueError`` naming the valid ones.
"""
from __future__ import annotations

import types
import typing
from dataclasses import MISSING, fields
from enum import Enum


def _ordered(cls) -> list:
    """The fields in constructor order: positional ones first, then keyword-only ones."""
    every = fields(cls)
    return [f for f in every if not f.kw_only] + [f for f in every if f.kw_only]


def _plain(value):
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {key: _plain(v) for key, v in value.items()}
    if hasattr(value, "to_dict") and callable(value.to_dict):
        return value.to_dict()
    return value


def request_to_dict(request) -> dict:
    """Every field of ``request`` (a dataclass instance), JSON-ready and exact."""
    return {f.name: _plain(getattr(request, f.name)) for f in _ordered(type(request))}


def _candidates(hint) -> tuple:
    """The types a field's annotation allows, ``None`` left out (``X | None`` -> ``(X,)``)."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return tuple(a for a in typing.get_args(hint) if a is not type(None))
    return (hint,)


def _restore(value, hint):
    if value is None:
        return None
    for kind in _candidates(hint):
        origin = typing.get_origin(kind) or kind
        if origin is tuple and isinstance(value, list):
            return tuple(value)
        if isinstance(kind, type) and isinstance(value, dict) and hasattr(kind, "from_dict"):
            return kind.from_dict(value)
    return value


def request_from_dict(cls, data, what: str):
    """Build ``cls`` from ``request_to_dict`` output (``what`` names it in errors, e.g. "run
    request"); the class's own validation then runs as for any other construction."""
    if not isinstance(data, dict):
        raise ValueError(f"a {what} must be a JSON object of its fields, not "
                         f"{type(data).__name__}")
    known = _ordered(cls)
    names = [f.name for f in known]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise ValueError(f"unknown {what} keys {unknown}; use: {', '.join(names)}")
    missing = [f.name for f in known if f.name not in data and f.default is MISSING
               and f.default_factory is MISSING]
    if missing:
        raise ValueError(f"the {what} lacks {', '.join(missing)}; give every required key "
                         f"({', '.join(missing)})")
    hints = typing.get_type_hints(cls)
    try:
        return cls(**{name: _restore(value, hints.get(name)) for name, value in data.items()})
    except TypeError as exc:
        raise ValueError(f"the {what} does not fit its fields: {exc}") from None
