"""A message kept as data: its id (the English text) and its values, written out when shown.

``msg("{name} is empty", name=f)`` makes a ``Message``: a ``str`` whose text is the English
sentence (so logs, the command line, JSON for programs and every ``in`` / ``+`` / ``join`` read
it as before) that also keeps ``id`` and ``params``; ``message.render("vi")`` writes the same
message from the Vietnamese catalogue. What a process records for later (an upload's notes, an
error sent from the checking process to the app) is a ``Message``, and ``to_dict`` /
``from_dict`` carry it through files: the page that shows it writes it in its reader's
language, and nothing translates English sentences afterwards. Values may be Messages
themselves (rendered in the same language) or plain values (numbers, names: shown as they are).
"""
from __future__ import annotations

from optimizer.text.catalogue import N_, tr
from optimizer.text.language import DEFAULT_LANGUAGE, use_language


def _text(msgid: str, params: dict, lang: str | None) -> str:
    values = {k: (v.render(lang) if isinstance(v, (Message, Figure)) else v)
              for k, v in params.items()}
    return tr(msgid, lang=lang, **values)


class Figure(str):
    """A number kept in a message: the value and the name of the ``optimizer.numbers`` function
    that writes it ("count", "sig", "size", "ms", ...). Its text is the English writing
    ("1,248"); ``render(lang)`` writes it again with that function in ``lang``, so its reader
    sees "1.248" in Vietnamese -- the one formatter, with the one owner of separators."""

    def __new__(cls, value, fmt: str = "count", options: dict | None = None):
        options = dict(options or {})
        self = super().__new__(cls, _write(value, fmt, options, DEFAULT_LANGUAGE))
        self.value, self.fmt, self.options = value, fmt, options
        return self

    def render(self, lang: str | None = None) -> str:
        return _write(self.value, self.fmt, self.options, lang)

    def to_dict(self) -> dict:
        return {"figure": {"value": self.value, "fmt": self.fmt, "options": self.options}}


def _write(value, fmt: str, options: dict, lang: str | None) -> str:
    from optimizer import numbers  # numbers reads the language from here: imported when used

    write = getattr(numbers, fmt, None)
    if fmt.startswith("_") or not callable(write):
        raise ValueError(f"no number format {fmt!r} in optimizer.numbers")
    if lang is None:
        return write(value, **options)
    with use_language(lang):
        return write(value, **options)


def figure(value, fmt: str = "count", **options) -> Figure:
    """``value`` as a ``Figure`` for a message's values, written by ``optimizer.numbers.<fmt>``
    (with ``options``) in whichever language the message is read."""
    return Figure(value, fmt, options)


class Message(str):
    """One message: the English text, with ``id`` (the message id, ``{names}`` unfilled) and
    ``params`` (the values)."""

    def __new__(cls, msgid: str, params: dict | None = None):
        params = dict(params or {})
        self = super().__new__(cls, _text(msgid, params, DEFAULT_LANGUAGE))
        self.id, self.params = msgid, params
        return self

    def render(self, lang: str | None = None) -> str:
        """The message in ``lang`` (default: the language in use here)."""
        return _text(self.id, self.params, lang)

    def to_dict(self) -> dict:
        """JSON-ready: ``{"id", "params"}``, nested messages as dicts, other values as JSON
        numbers or text."""
        def value(v):
            if isinstance(v, Message):
                return v.to_dict()
            if isinstance(v, Figure):
                return v.to_dict()
            return v if isinstance(v, (int, float, str)) and not isinstance(v, bool) else str(v)
        return {"id": self.id, "params": {k: value(v) for k, v in self.params.items()}}

    @classmethod
    def from_dict(cls, data) -> "Message | None":
        """The message ``to_dict`` wrote, or None for anything else (an older file)."""
        if not isinstance(data, dict) or not isinstance(data.get("id"), str):
            return None
        params = data.get("params") if isinstance(data.get("params"), dict) else {}

        def value(v):
            if not isinstance(v, dict):
                return v
            data = v.get("figure")
            if isinstance(data, dict) and isinstance(data.get("fmt"), str):
                return Figure(data.get("value"), data["fmt"], data.get("options") or {})
            if isinstance(data, str):           # an older record: the English text as it was
                return data
            return cls.from_dict(v) or str(v)
        return cls(data["id"], {k: value(v) for k, v in params.items()})


def msg(msgid: str, **params) -> Message:
    """A ``Message`` to be written out later, in whichever language its reader reads."""
    return Message(msgid, params)


def render(value, lang: str | None = None) -> str:
    """A Message or Figure (or a Message's ``to_dict`` form) in ``lang``; anything else as
    text."""
    if isinstance(value, dict):
        value = Message.from_dict(value) or value
    return value.render(lang) if isinstance(value, (Message, Figure)) else str(value)


def _pattern(msgid: str):
    import re
    import string

    parts, seen = [], set()
    for literal, name, _spec, _conv in string.Formatter().parse(msgid):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
            seen.add(name)
    return re.compile("".join(parts) + r"\Z", re.S)


def read_back(text, msgids) -> "Message | str":
    """``text`` that the code wrote from one of ``msgids`` (English, ``{names}`` filled in, as a
    record on disk keeps it) as that message again, so its reader sees it in their language; any
    other text as it is. For records that keep only the English text of a fixed format (a host
    description, a timing note), where the format and this reader are one constant."""
    if isinstance(text, Message) or not isinstance(text, str):
        return text
    for msgid in msgids:
        found = _pattern(msgid).match(text)
        if found:
            return Message(msgid, found.groupdict())
    return text


#: How ``joined`` puts two parts together (message ids: a language may join otherwise).
_JOINS = {"; ": N_("{first}; {second}"), ", ": N_("{first}, {second}"),
          " and ": N_("{first} and {second}"), "": N_("{first}{second}"),
          " + ": N_("{first} + {second}")}


def joined(parts, separator: str = "; "):
    """``parts`` (messages, figures or text; empty ones left out) as one message, joined with
    ``separator`` ("; ", ", ", " and ", " + " or "" -- each a message of the catalogue); "" when
    nothing is left."""
    parts = [p for p in parts if p]
    if not parts:
        return ""
    out = parts[-1]
    for part in reversed(parts[:-1]):
        out = Message(_JOINS[separator], {"first": part, "second": out})
    return out
