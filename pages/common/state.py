"""Every session-state key the pages use, with its default, in one place.

The journey keeps only small things in ``st.session_state``: the model reference, the user's
answers and goals (frozen library objects), the technique specs picked to run and the path of
the current run folder. Everything about a run is read back from disk, so a rerun or a trip
to another page never loses it. Each browser session gets its own id and its own folder under
``<workspace>/sessions/<id>/``; one user's runs never appear in another session.
"""
from __future__ import annotations

from pathlib import Path

import streamlit as st

from optimizer import paths

DEFAULT_MODEL = "digits-cnn"

SESSION_ID = "session_id"
MODEL = "model_ref"            # a demo name (or, later, an uploaded model's path)
DATA = "data_path"             # None for a demo: the demo brings its own splits
ANSWERS = "answers"            # optimizer.Answers
GOALS = "goals"                # optimizer.Goals
CONFIRMED = "situation_confirmed"   # True once the user submitted the questionnaire
RUN_SPECS = "run_specs"        # list[str] picked on the Recommendation page, None = not yet
RUN_DIR = "run_dir"            # str path of the run this session is looking at
SIZE_VIEW = "size_view"        # "gzip" or "raw" on the Results page
SEARCH_DIR = "search_dir"      # str path of the search this session is looking at
UPLOAD = "upload_manifest"     # str path of the checked upload this session uses

#: The URL query parameter holding the browser's workspace token (``?w=...``).
TOKEN_PARAM = "w"
#: Keys kept in the workspace folder, so a reload, a bookmark or a restart brings them back.
PERSISTED = (MODEL, DATA, CONFIRMED, RUN_SPECS, RUN_DIR, SEARCH_DIR, SIZE_VIEW, UPLOAD)
LAYERS_NEWEST = "layers_newest"   # the newest per-layer report seen (its folder) on Layers


def init() -> None:
    """Set every key's default once per session (called by app.py before navigation), mark the
    session active, and (once per new session) remove the files of long-idle sessions.

    A browser's workspace is a token this server issued (128 random bits and their signature),
    kept in the URL (``?w=``) and in a cookie: a new session gets the address's workspace, else
    the cookie's (a new tab on the plain address), else a fresh one; a token the server did not
    issue (one typed by hand) is never adopted. The workspace's model, upload, answers, current
    run and search come back with it."""
    new = SESSION_ID not in st.session_state
    if new:
        from optimizer.workspace.browser import choose_token

        try:
            token, _source = choose_token(st.query_params.get(TOKEN_PARAM), _cookie())
        except OSError:    # the secret cannot be written (a full disk): this session only
            import secrets

            token = secrets.token_urlsafe(16)
        st.session_state[SESSION_ID] = token
        _restore(token)
    if st.query_params.get(TOKEN_PARAM) != st.session_state[SESSION_ID]:
        st.query_params[TOKEN_PARAM] = st.session_state[SESSION_ID]
    _housekeeping(st.session_state[SESSION_ID], sweep=new)
    st.session_state.setdefault(MODEL, DEFAULT_MODEL)
    st.session_state.setdefault(DATA, None)
    st.session_state.setdefault(CONFIRMED, False)
    st.session_state.setdefault(RUN_SPECS, None)
    st.session_state.setdefault(RUN_DIR, None)
    # None: the Results page shows the size its goals judge (on disk unless a gzip size goal)
    st.session_state.setdefault(SIZE_VIEW, None)
    st.session_state.setdefault(SEARCH_DIR, None)
    st.session_state.setdefault(UPLOAD, None)
    save()


def _cookie() -> str | None:
    """The workspace token in the browser's cookie, as sent when this session connected."""
    from optimizer.workspace.browser import cookie_name

    try:
        return st.context.cookies.get(cookie_name())
    except (OSError, ValueError, RuntimeError):
        return None


#: Written into the page once per session whose cookie does not hold its token yet. The token
#: is this server's (44 URL-safe characters, checked again here), never text from a user.
_COOKIE_SCRIPT = ("<style>.st-key-workspace_cookie {{ display: none; }}</style><script>"
                  "document.cookie = '{name}={token}; Path=/; Max-Age={age}; SameSite=Strict'"
                  " + (location.protocol === 'https:' ? '; Secure' : '');</script>")
COOKIE_MAX_AGE_S = 365 * 24 * 3600


def remember_in_browser() -> None:
    """Keep this session's workspace token in a cookie (called by app.py after ``init``), so
    the plain address in a new tab of this browser opens the same workspace. Streamlit can only
    read cookies (``st.context.cookies``), so a hidden script in the page writes it."""
    import re

    from optimizer.workspace.browser import cookie_name

    token = st.session_state.get(SESSION_ID)
    if not token or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", token) or _cookie() == token:
        return
    try:
        name = cookie_name()
    except (OSError, ValueError):
        return      # no secret (an unwritable workspace): the address alone keeps the token
    with st.container(key="workspace_cookie"):
        st.html(_COOKIE_SCRIPT.format(name=name, token=token, age=COOKIE_MAX_AGE_S),
                unsafe_allow_javascript=True)


def _restore(token: str) -> None:
    """Load what ``save`` kept for this workspace; paths must still be inside it."""
    from optimizer import Answers, Goals
    from optimizer.workspace.browser import load_state

    try:
        kept = load_state(token)
    except (OSError, ValueError):
        return
    folder = str(paths.session_dir(token)) + "/"
    for key in PERSISTED:
        value = kept.get(key)
        if isinstance(value, str) and value.startswith("/") and not (
                value.startswith(folder) and Path(value).exists()):
            continue   # a file that is gone (or never was this workspace's)
        if value is not None:
            st.session_state[key] = value
    try:
        if isinstance(kept.get(ANSWERS), dict):
            st.session_state[ANSWERS] = Answers.from_dict(kept[ANSWERS])
        if isinstance(kept.get(GOALS), dict):
            st.session_state[GOALS] = Goals.from_dict(kept[GOALS])
    except (TypeError, ValueError, KeyError):
        pass


def save() -> None:
    """Keep the persisted keys (and the answers and goals) in the workspace folder."""
    from optimizer.workspace.browser import save_state

    values = {key: st.session_state.get(key) for key in PERSISTED}
    for key in (ANSWERS, GOALS):
        value = st.session_state.get(key)
        values[key] = value.to_dict() if value is not None else None
    try:
        save_state(st.session_state[SESSION_ID], values)
    except (OSError, ValueError, TypeError):
        pass   # a full disk never breaks a page; the next change tries again


def _housekeeping(session_id: str, sweep: bool) -> None:
    """``touch`` this session; on a new one, ``sweep_stale`` the others (age-based, never a
    session with a live run). A full disk or a race with another server process must never
    break a page, so failures here are ignored: the next page view tries again."""
    from optimizer.workspace.browser import sweep_stale, touch

    try:
        touch(session_id)
        if sweep:
            sweep_stale(keep=session_id)
    except (OSError, ValueError):
        pass


def get(key: str, default=None):
    """A session value (after ``init``), or ``default``."""
    return st.session_state.get(key, default)


def put(key: str, value) -> None:
    st.session_state[key] = value
    if key in PERSISTED or key in (ANSWERS, GOALS):
        save()


def default_answers(data_kind: str = "labelled"):
    """Answers that make the demo a short path: optimize for size, best result, retraining OK.

    On the built-in demos (labelled data) this walks the tree to quantization-aware training,
    which takes seconds on digits-cnn; the cheap post-training variants run beside it.
    """
    from optimizer import Answers

    return Answers(optimize=True, data=data_kind, can_retrain=data_kind == "labelled",
                   target="cpu", size_goal="4x", effort="thorough", accuracy="standard")


def default_goals():
    """Lose at most 1 point of accuracy; no size or latency target until the user sets one."""
    from optimizer import AccuracyGoal, Goals

    return Goals(accuracy=AccuracyGoal(max_drop=0.01))


def answers():
    """The session's answers (the demo defaults until the questionnaire is submitted)."""
    if st.session_state.get(ANSWERS) is None:
        st.session_state[ANSWERS] = default_answers()
    return st.session_state[ANSWERS]


def goals():
    """The session's goals (a 1-point accuracy budget by default)."""
    if st.session_state.get(GOALS) is None:
        st.session_state[GOALS] = default_goals()
    return st.session_state[GOALS]


def session_dir() -> Path:
    """This browser session's private folder under the workspace."""
    sid = st.session_state.get(SESSION_ID)
    if not sid:
        from optimizer.workspace.browser import issue_token

        sid = issue_token()
    st.session_state[SESSION_ID] = sid
    return paths.session_dir(sid)


def runs_dir() -> Path:
    """Where this session's run folders live."""
    return session_dir() / "runs"


def searches_dir() -> Path:
    """Where this session's search folders live."""
    return session_dir() / "searches"


def run_dir() -> Path | None:
    """The run this session is looking at, or None before the first run."""
    value = st.session_state.get(RUN_DIR)
    return Path(value) if value else None
