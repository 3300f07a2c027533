"""Links that survive a reload: the workspace token in the URL, share links, My runs, and
damaged run folders on the Run and Results pages. Synthetic run folders, no TensorFlow."""
from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from app_helpers import button, goto, new_app
from run_folders import folder_hashes, make_run

from optimizer import list_demos, model_label, new_run_id, paths
from optimizer.workspace import index
from optimizer.workspace.browser import is_issued, issue_token

pytestmark = pytest.mark.cost(30)


def _token_run(token: str, **kw) -> Path:
    folder = make_run(paths.session_dir(token) / "runs" / new_run_id(), **kw)
    index.record(folder)
    return folder


def _texts(at) -> str:
    parts = [m.value for m in at.markdown] + [i.value for i in at.info]
    parts += [w.value for w in at.warning] + [e.value for e in at.error]
    return re.sub(r"\\(.)", r"\1", "\n".join(str(p) for p in parts))   # as rendered


def test_a_reload_brings_the_workspace_back():
    first = new_app()
    first.run()
    token = first.query_params["w"][0] if isinstance(first.query_params["w"], list) \
        else first.query_params["w"]
    assert len(token) >= 22                                     # 128 random bits
    folder = _token_run(token)
    first.session_state["run_dir"] = str(folder)
    first.session_state["run_specs"] = ["float16"]
    goto(first, "pages/results.py")                            # a page view saves the state
    reloaded = new_app()
    reloaded.query_params["w"] = token                          # F5: the same URL
    goto(reloaded, "pages/results.py")
    assert not reloaded.exception
    assert reloaded.session_state["session_id"] == token
    assert reloaded.session_state["run_dir"] == str(folder)
    assert reloaded.session_state["run_specs"] == ["float16"]
    assert [m.value for m in reloaded.metric][0] == "digits-cnn"


def test_a_made_up_token_gets_a_fresh_workspace():
    at = new_app()
    at.query_params["w"] = "short"
    at.run()
    assert at.session_state["session_id"] != "short"


def test_only_a_token_this_server_issued_is_adopted():
    hand_made = secrets.token_urlsafe(16)           # 22 allowed characters, chosen by hand
    _token_run(hand_made)                           # even one whose folder holds a run
    at = new_app()
    at.query_params["w"] = hand_made
    at.run()
    token = at.session_state["session_id"]
    assert token != hand_made and is_issued(token)
    assert at.query_params["w"] in (token, [token])  # the address now names the new one
    goto(at, "pages/my_runs.py")
    assert "No runs yet" in _texts(at)
    issued = issue_token()
    folder = _token_run(issued)
    again = new_app()
    again.query_params["w"] = issued
    goto(again, "pages/my_runs.py")
    assert again.session_state["session_id"] == issued
    assert list(again.dataframe[0].value["Run id"]) == [folder.name]


def test_a_disk_that_cannot_keep_the_secret_still_opens_the_app(monkeypatch):
    from optimizer.workspace import browser

    def no_space():
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(browser, "secret", no_space)
    at = new_app()
    goto(at, "pages/my_runs.py")
    assert not at.exception, at.exception
    assert len(at.session_state["session_id"]) == 22 and "No runs yet" in _texts(at)


def test_a_link_viewer_gets_no_writing_control_and_a_copy_of_their_own():
    owner, viewer = issue_token(), issue_token()
    folder = _token_run(owner, files=True)
    before = folder_hashes(folder)
    at = new_app()
    at.query_params["w"] = viewer
    at.query_params["run"] = folder.name
    goto(at, "pages/results.py")
    assert not at.exception and at.session_state["session_id"] == viewer
    assert "A shared run, opened from its link (read-only)" in _texts(at)
    labels = [b.label for b in at.button]
    assert not [label for label in labels if label.startswith("Check readiness")], labels
    assert "Try other techniques" not in labels
    assert "copy the run into your workspace to check them" in "\n".join(
        c.value for c in at.caption)
    assert folder_hashes(folder) == before

    button(at, "Copy into my workspace").click().run()
    assert not at.exception, at.exception
    copy = Path(at.session_state["run_dir"])
    assert copy.parent == paths.session_dir(viewer) / "runs" and copy.name != folder.name
    assert folder_hashes(folder) == before
    at.query_params.pop("run", None)                   # nav.go left the link for the copy
    goto(at, "pages/results.py")
    assert "A shared run" not in _texts(at)
    assert [b.label for b in at.button if b.label.startswith("Check readiness")]
    assert at.session_state["model_ref"] == "digits-cnn"
    assert at.session_state["run_specs"] == ["float16"]


def test_the_sidebar_names_the_model_just_chosen():
    at = new_app()
    goto(at, "pages/model.py")
    radio = at.radio(key="model_choice")
    other = next(d.name for d in list_demos() if d.name != radio.value)
    radio.set_value(other).run()
    assert not at.exception
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    assert f"Model: {model_label(other)}" in re.sub(r"\\(.)", r"\1", sidebar)


def test_a_share_link_opens_the_run_read_only_anywhere():
    folder = _token_run("owner-token-aaaaaaaaaaaaaaaaaaaa")
    at = new_app()
    at.query_params["run"] = folder.name
    goto(at, "pages/results.py")
    assert not at.exception
    assert "A shared run" in _texts(at)
    assert [m.value for m in at.metric][0] == "digits-cnn"
    guessed = new_app()
    guessed.query_params["run"] = "../" + folder.name
    goto(guessed, "pages/results.py")
    assert "does not open a run" in _texts(guessed) and "No results yet" in _texts(guessed)


def test_damaged_files_are_named_and_break_nothing():
    token = "damaged-token-aaaaaaaaaaaaaaaa"
    good = _token_run(token)
    bad = _token_run(token)
    (bad / "results.json").write_text("[1, 2]")
    for page in ("pages/run.py", "pages/results.py"):
        at = new_app(session_id=token, run_dir=str(bad))
        goto(at, page)
        assert not at.exception, (page, at.exception)
        assert "this run's files are damaged: results.json holds a list" in _texts(at)
    at = new_app(session_id=token, run_dir=str(good))
    goto(at, "pages/results.py")
    assert not at.exception and "damaged" not in _texts(at)


def test_my_runs_lists_compares_and_deletes():
    token = "my-runs-token-aaaaaaaaaaaaaaaa"
    first, second = _token_run(token), _token_run(token)
    at = new_app(session_id=token)
    goto(at, "pages/my_runs.py")
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["Run id"]) == {first.name, second.name}
    # the Results page's verdict for each run's own goals, with its size basis named
    assert set(table["Best result"]) == {"float16, 2.00x smaller on disk"}
    assert len(at.get("plotly_chart")) == 1                   # the two runs compared
    assert f"/results?run={at.selectbox[0].value}" in [c.value for c in at.code]
    at.checkbox[0].check().run()
    [b for b in at.button if b.label == "Delete"][0].click().run()
    assert not at.exception
    remaining = at.dataframe[0].value
    assert len(remaining) == 1 and not (first.exists() and second.exists())
