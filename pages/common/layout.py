"""Layout pieces every page shares: the step header, the sidebar summary and error messages."""
from __future__ import annotations

import re

import streamlit as st

from optimizer import TARGET_LABELS, model_label

from . import boot, nav, state

#: On a phone, table cells wrap between words and a column is at least as wide as its
#: longest word (never "baseli ne"; a word longer than the whole column still breaks), and
#: the wide decision tree gives way to the path in words (Recommendation).
_NARROW_CSS = ("<style>@media (max-width: 640px) { [data-testid=stMain] td, "
               "[data-testid=stMain] th, [data-testid=stMain] th p, [data-testid=stMain] td p "
               "{ overflow-wrap: break-word; word-break: normal; hyphens: manual; } "
               "[data-testid=stTable] table { font-size: 0.75rem; } "
               "[data-testid=stTable] th, [data-testid=stTable] td { padding: 0.25rem 0.2rem; "
               "white-space: normal; } [data-testid=stTable] td p { white-space: normal; } "
               "[data-testid=stMarkdownContainer] table { font-size: 0.8rem; } "
               "[data-testid=stMarkdownContainer] :is(th, td) { padding: 0.25rem 0.3rem; } "
               ".st-key-tree_wide { display: none; } }</style>")


def header(page: nav.PageInfo, intro: str) -> None:
    """Step title ("Step 2 of 5 · Your situation"), a one-line intro and the sidebar summary.

    Every page calls this first, so it also makes sure app.py's navigation and the session
    defaults are in place (see ``boot``).
    """
    boot.ensure_app_navigation()
    state.init()
    st.html(_NARROW_CSS)
    if page in nav.JOURNEY:
        st.caption(f"STEP {nav.step_number(page)} OF {len(nav.JOURNEY)}")
    else:
        st.caption("GO FURTHER")
    st.title(page.title, anchor=False)
    st.markdown(intro)
    _sidebar_summary()


def _sidebar_summary() -> None:
    """What the session has chosen so far, so every page shows where the user is."""
    with st.sidebar:
        st.markdown("**LiteRT Optimization Studio**")
        st.caption("Walks the LiteRT *Model optimization* guide's decision tree, runs the "
                   "techniques for real and measures them against the float baseline.")
        lines = [f"Model: {plain(model_label(state.get(state.MODEL)))}"]
        answers = state.get(state.ANSWERS)
        if answers is not None and state.get(state.CONFIRMED):
            lines.append(f"Target: {TARGET_LABELS[answers.target]}")
        specs = state.get(state.RUN_SPECS)
        if specs:
            lines.append("To run: " + ", ".join(f"`{s}`" for s in specs))
        if state.get(state.RUN_DIR):
            lines.append("A run is on the Run page")
        st.markdown("  \n".join(lines))


_MARKUP = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def plain(text) -> str:
    """``text`` escaped so that Streamlit's Markdown shows it as typed: a class name or file
    name from an upload never becomes a link, an image (fetched by the browser), a colour
    directive or HTML. Every user-controlled string goes through this before Markdown."""
    return _MARKUP.sub(r"\\\1", str(text)).replace("\n", " ")


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (never a traceback)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def show_error(exc: BaseException, what: str) -> None:
    """An st.error naming what failed, the cause and the fix; no traceback on the page.

    ``ValueError`` (and missing-file ``OSError``) messages from the library already name the
    cause and the fix; anything else is unexpected, so say so and where to look.
    """
    if isinstance(exc, (ValueError, OSError)):
        st.error(f"**{what}:** {plain(one_line(exc))}", icon=":material/error:")
    else:
        st.error(f"**{what} failed unexpectedly** ({type(exc).__name__}: {plain(one_line(exc))}). "
                 "Try again; if it keeps failing, the server's console has the details.",
                 icon=":material/error:")


def section(title: str, help_text: str | None = None) -> None:
    """A sub-heading inside a page, with an optional short caption."""
    st.subheader(title, anchor=False)
    if help_text:
        st.caption(help_text)
