"""The page's language: chosen per browser session, in the address, remembered per workspace.

Where it comes from, first found wins: the address (``?lang=vi`` / ``?lang=en``, so a shared
link opens in its language), this session's choice (the sidebar's switch), the workspace's
remembered choice (``state.PERSISTED``), the browser's language (``st.context.locale``),
English. ``choose`` runs at the start of every page run and sets the library's per-context
language (``optimizer.text.set_language``) for this run only: each browser session's runs have
their own thread, so one user's language never reaches another's page.
"""
from __future__ import annotations

import streamlit as st

from optimizer.text import LANGUAGES, from_locale, parse_language, set_language, tr

from . import state

PARAM = "lang"          # the address's query parameter
SWITCH = "lang_switch"  # the sidebar switch's widget key


def _locale() -> str | None:
    try:
        return st.context.locale
    except (AttributeError, RuntimeError):
        return None


def choose() -> str:
    """Settle this run's language, keep it in the address and the workspace, and make the
    library write in it. Returns its code ("en" or "vi")."""
    asked = parse_language(st.query_params.get(PARAM))
    lang = asked or parse_language(state.get(state.LANG)) or from_locale(_locale())
    if state.get(state.LANG) != lang:
        state.put(state.LANG, lang)
    if st.query_params.get(PARAM) != lang:
        st.query_params[PARAM] = lang
    set_language(lang)
    return lang


def _switched() -> None:
    """The switch changed: the new language goes into the session, workspace and address."""
    lang = parse_language(st.session_state.get(SWITCH))
    if lang:
        state.put(state.LANG, lang)
        st.query_params[PARAM] = lang


def switch() -> None:
    """English / Tiếng Việt in the sidebar (each language named in itself)."""
    lang = choose()
    st.session_state[SWITCH] = lang
    st.sidebar.segmented_control(
        tr("Language"), list(LANGUAGES), format_func=LANGUAGES.get, key=SWITCH,
        required=True, on_change=_switched, label_visibility="collapsed")


def current() -> str:
    """The language this run writes in (after ``choose``)."""
    from optimizer.text import current_language

    return current_language()
