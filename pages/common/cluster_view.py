"""The Ray cluster's size and queue on the Run page (only when the executor is ``ray``)."""
from __future__ import annotations

import streamlit as st

from optimizer import cluster_status

#: Seconds a reading is reused: the probe connects to the cluster in a child process.
TTL_S = 15


@st.cache_data(ttl=TTL_S, show_spinner=False)
def _cluster_text() -> tuple[str, bool] | None:
    status = cluster_status()
    return None if status is None else (status.text, status.error is None)


def show_cluster() -> None:
    """One line: nodes, CPUs, free CPUs and the queue; an error line when unreachable."""
    reading = _cluster_text()
    if reading is None:
        return
    text, ok = reading
    if ok:
        st.caption(f":material/hub: {text}")
    else:
        st.warning(text, icon=":material/hub:")
