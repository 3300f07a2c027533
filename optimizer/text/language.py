"""Which language the words are written in: per context, never per process.

A ``contextvars.ContextVar``: the app's page sets it at the start of each of its runs (each
browser session runs its pages in its own thread, which starts from the default), the report
command sets it for the report it writes, and everything else reads English. Numbers follow
the language too: ``optimizer.numbers`` (the one owner of separators) reads
``current_language``.
"""
from __future__ import annotations

import contextvars
from contextlib import contextmanager

#: The languages the app is written in: code -> the language's own name (the switch's labels).
LANGUAGES = {"en": "English", "vi": "Tiếng Việt"}
DEFAULT_LANGUAGE = "en"
_LANGUAGE: contextvars.ContextVar[str] = contextvars.ContextVar("language",
                                                                default=DEFAULT_LANGUAGE)


def parse_language(value) -> str | None:
    """A language code from a user's value ("vi", "VI", "vi-VN", "en_US"), or None when it
    names no language of the app."""
    if not isinstance(value, str):
        return None
    code = value.strip().replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else None


def from_locale(locale) -> str:
    """The language for a browser's locale (``navigator.language``, e.g. "vi-VN"): Vietnamese
    for a Vietnamese browser, English otherwise."""
    return parse_language(locale) or DEFAULT_LANGUAGE


def current_language() -> str:
    """The language of this context ("en" unless a caller chose another)."""
    return _LANGUAGE.get()


def set_language(lang: str) -> contextvars.Token:
    """Use ``lang`` for the rest of this context (a page's run); ``ValueError`` names the
    languages there are."""
    code = parse_language(lang)
    if code is None:
        raise ValueError(f"unknown language '{lang}'; use one of: {', '.join(LANGUAGES)}")
    return _LANGUAGE.set(code)


@contextmanager
def use_language(lang: str):
    """Write everything inside the ``with`` block in ``lang``."""
    token = set_language(lang)
    try:
        yield lang
    finally:
        _LANGUAGE.reset(token)
