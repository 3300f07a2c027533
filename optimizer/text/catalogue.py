"""Look a message up in the catalogue of the language in use, and fill in its values.

``tr("Run {count} models", count=3)``: the English text is the message id; in Vietnamese it is
replaced by ``vi.po``'s translation, then ``str.format`` fills the named values (only when
values are given, so a text without them may hold braces). A message missing from a catalogue
falls back to English on screen; ``tests/test_text_catalogue.py`` fails on it first.
"""
from __future__ import annotations

import functools
from pathlib import Path

from optimizer.text import po
from optimizer.text.language import DEFAULT_LANGUAGE, current_language, parse_language

FOLDER = Path(__file__).resolve().parent


def catalogue_path(lang: str) -> Path:
    """The ``.po`` file of a language (English has none: its ids are its texts)."""
    return FOLDER / f"{lang}.po"


@functools.cache
def catalogue(lang: str) -> dict[tuple[str | None, str], tuple[str, ...]]:
    """``{(context, English id): translations}`` of one language, read once per process (the
    files are part of the code; nothing a user does changes them). Fuzzy and untranslated
    entries are left out."""
    if lang == DEFAULT_LANGUAGE:
        return {}
    entries = po.read(catalogue_path(lang))
    return {e.key: e.msgstr for e in entries if e.msgid and e.translated}


def _language(lang: str | None) -> str:
    return (parse_language(lang) if lang else None) or current_language()


def _fill(text: str, params: dict) -> str:
    return text.format(**params) if params else text


def tr(msgid: str, lang: str | None = None, **params) -> str:
    """``msgid`` in ``lang`` (default: this context's language) with ``params`` filled in."""
    code = _language(lang)
    found = catalogue(code).get((None, msgid)) if code != DEFAULT_LANGUAGE else None
    return _fill(found[0] if found else msgid, params)


def trc(context: str, msgid: str, lang: str | None = None, **params) -> str:
    """Like ``tr`` for a short text that needs a different translation in another place
    (gettext's ``pgettext``): "Y" on a tree edge and "Y" elsewhere, say."""
    code = _language(lang)
    found = catalogue(code).get((context, msgid)) if code != DEFAULT_LANGUAGE else None
    return _fill(found[0] if found else msgid, params)


def tr_plural(singular: str, plural: str, count: int, lang: str | None = None,
              **params) -> str:
    """The singular or plural form for ``count`` (``{count}`` is filled in too); Vietnamese has
    one form (``msgstr[0]``)."""
    code = _language(lang)
    params = {"count": count, **params}
    found = catalogue(code).get((None, singular)) if code != DEFAULT_LANGUAGE else None
    if found:
        return _fill(found[min(len(found) - 1, 0 if count == 1 else 1)], params)
    return _fill(singular if count == 1 else plural, params)


def N_(msgid: str) -> str:  # noqa: N802 - gettext's own name for "mark, translate later"
    """Mark ``msgid`` for the catalogue without translating it here: it is data (a technique's
    title, a target's label) translated with ``tr`` where it is shown."""
    return msgid
