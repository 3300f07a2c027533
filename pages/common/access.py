"""The access gate: when the server has ``OPTIMIZER_ACCESS_TOKEN``, ask for it once."""
from __future__ import annotations

import streamlit as st

from optimizer import access
from optimizer.text import tr

from . import state

GRANTED = "access_granted"


def gate() -> None:
    """Stop the page with a password box until this browser's workspace has given the token."""
    if not access.required() or st.session_state.get(GRANTED):
        return
    workspace = state.get(state.SESSION_ID)
    if workspace and access.remembered(workspace):
        st.session_state[GRANTED] = True
        return
    st.title("LiteRT Optimization Studio", anchor=False)
    with st.form("access_form"):
        given = st.text_input(tr("Access token"), type="password",
                              help=tr("The workshop's organiser gives it; this browser is asked "
                                      "once."))
        sent = st.form_submit_button(tr("Enter"), type="primary")
    if sent:
        if access.check(given):
            st.session_state[GRANTED] = True
            if workspace:
                access.remember(workspace)
            st.rerun()
        st.error(tr("That is not the access token; ask the organiser for it."),
                 icon=":material/lock:")
    st.stop()
