"""Links that only read (issue 20): who may change a run folder, every action refused when
another workspace asks for it directly (the folder byte-identical afterwards), and "Copy into
my workspace" (a run of the viewer's own, with no link back to the owner). No TensorFlow."""
from __future__ import annotations

import ast
import json
import os
from pathlib import Path

import pytest
from run_folders import folder_hashes, make_run

from optimizer import access, new_run_id, paths
from optimizer.artifacts import history, store
from optimizer.measuring.readiness.registry import target_check
from optimizer.runs.background import cancel_run, read_run
from optimizer.runs.readiness import cache_key, check_variants
from optimizer.search.background import start_repair, stop_search
from optimizer.workspace import index
from optimizer.workspace.browser import issue_token
from optimizer.workspace.copies import copy_run

ROOT = Path(__file__).resolve().parents[1]
VERDICT = {"target": "cpu", "ready": True, "summary": "runs on the CPU (checked)"}


def _owner_run(owner: str, **kw) -> Path:
    """A finished run of ``owner`` whose variants have files and a cached CPU verdict."""
    folder = make_run(paths.session_dir(owner) / "runs" / new_run_id(), files=True, **kw)
    for spec in ("float32", "float16"):
        verdicts = folder / spec / "readiness"
        verdicts.mkdir()
        (verdicts / cache_key("cpu")).write_text(json.dumps(
            {**VERDICT, "checked_with": target_check("cpu").fingerprint()}))
    index.record(folder)
    return folder


def _verdict(result) -> dict:
    """A result's cached readiness verdict without the stamp of the check that made it."""
    return {k: v for k, v in result.readiness.items() if k != "checked_with"}


def test_only_the_owning_workspace_may_change_a_folder(tmp_path):
    owner, viewer = issue_token(), issue_token()
    folder = _owner_run(owner)
    assert paths.owner_of(folder) == owner
    assert access.may_change(folder, owner) and access.may_change(folder / "float16", owner)
    assert not access.may_change(folder, viewer) and not access.may_change(folder, "")
    assert access.may_change(folder, None)                      # the command line
    assert paths.owner_of(tmp_path) is None
    assert not access.may_change(tmp_path, viewer) and access.may_change(tmp_path, None)
    link = paths.session_dir(viewer) / "runs" / "link-to-theirs"
    link.parent.mkdir(parents=True)
    os.symlink(folder, link)                 # a link in my workspace is still their folder
    assert paths.owner_of(link) == owner and not access.may_change(link, viewer)
    with pytest.raises(access.ReadOnly, match="Copy into my workspace"):
        access.require_owner(link, viewer, "Checking readiness")


def test_every_action_a_viewer_asks_for_directly_is_refused_and_changes_nothing():
    owner, viewer = issue_token(), issue_token()
    folder = _owner_run(owner)
    for verdicts in folder.glob("*/readiness"):        # nothing checked yet: a check would write
        for file in verdicts.iterdir():
            file.unlink()
        verdicts.rmdir()
    before = folder_hashes(folder)
    results = read_run(folder).results
    with pytest.raises(access.ReadOnly, match="Checking readiness"):
        check_variants(results, "cpu", workspace=viewer)
    with pytest.raises(access.ReadOnly):
        check_variants([r.to_dict() for r in results], "edgetpu", workspace=viewer)
    with pytest.raises(access.ReadOnly, match="Cancelling"):
        cancel_run(folder, workspace=viewer)
    with pytest.raises(access.ReadOnly, match="Stopping"):
        stop_search(folder, workspace=viewer)
    with pytest.raises(access.ReadOnly, match="Repairing"):
        start_repair(folder, analyse=True, workspace=viewer)
    with pytest.raises(access.ReadOnly, match="another workspace"):
        index.delete_run(folder.name, viewer)
    assert folder_hashes(folder) == before
    assert not list(folder.glob("*/readiness"))
    assert cancel_run(folder, workspace=owner) is False         # the owner is not refused
    assert folder_hashes(folder) == before


def test_the_owner_reads_and_checks_its_own_run():
    owner = issue_token()
    folder = _owner_run(owner)
    checked = check_variants(read_run(folder).results, "cpu", workspace=owner)
    assert [_verdict(r) for r in checked] == [VERDICT, VERDICT]   # cached: no process started


def _no_trace_of(folder: Path, *secrets: str) -> list[str]:
    """Files under ``folder`` whose bytes contain any of ``secrets``."""
    return [str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()
            and any(s.encode() in p.read_bytes() for s in secrets)]


def test_a_copy_is_the_viewers_own_run_with_no_link_back_to_the_owner():
    owner, viewer = issue_token(), issue_token()
    folder = _owner_run(owner)
    store.add_to_results(folder / store.RESULTS, run_id=folder.name, cache_key="k" * 64)
    (folder / store.RUN_LOG).write_text(f"started in {folder}\n")
    store.write_pid(folder, 123456)
    before = folder_hashes(folder)

    copy = copy_run(folder, viewer)
    assert folder_hashes(folder) == before                      # the owner's folder only read
    assert copy.parent == paths.session_dir(viewer) / "runs" and copy.name != folder.name
    assert paths.owner_of(copy) == viewer
    assert _no_trace_of(copy, folder.name, owner) == []
    assert not {store.PID, store.RUN_LOG, store.LOCK} & {p.name for p in copy.iterdir()}
    run = read_run(copy)
    assert run.status == "finished" and [r.technique for r in run.results] == ["float32",
                                                                                "float16"]
    for result in run.results:
        assert Path(result.tflite_path).parent.parent == copy
        assert Path(result.tflite_path).read_bytes() == (
            folder / result.technique / store.TFLITE).read_bytes()
    doc = store.read_json(copy / store.RESULTS)
    assert doc["run_id"] == copy.name and "cache_key" not in doc
    assert history.get_run(copy.name)["owner"] == viewer
    assert [r["id"] for r in index.workspace_runs(viewer)] == [copy.name]
    checked = check_variants(run.results, "cpu", workspace=viewer)   # now the viewer's own
    assert [_verdict(r) for r in checked] == [VERDICT, VERDICT]
    assert not (paths.session_dir(viewer) / ".copying").exists() or not any(
        (paths.session_dir(viewer) / ".copying").iterdir())

    with pytest.raises(ValueError, match="already in your workspace"):
        copy_run(copy, viewer)


def test_a_run_still_going_or_a_search_is_not_copied():
    owner, viewer = issue_token(), issue_token()
    going = make_run(paths.session_dir(owner) / "runs" / new_run_id(), finished=False)
    with store.RunLock(going), pytest.raises(ValueError, match="still going"):
        copy_run(going, viewer)
    search = paths.session_dir(owner) / "searches" / new_run_id()
    search.mkdir(parents=True)
    (search / "search.json").write_text("{}")
    with pytest.raises(ValueError, match="only a run"):
        copy_run(search, viewer)
    assert not (paths.session_dir(viewer) / "runs").exists()


def test_a_copy_of_an_uploaded_models_run_takes_the_upload_along():
    owner, viewer = issue_token(), issue_token()
    upload = paths.session_dir(owner) / "uploads" / "20250101-000000-abcdef"
    (upload / "model").mkdir(parents=True)
    (upload / "model" / "net.h5").write_bytes(b"\x89HDF-weights")
    (upload / "data.npz").write_bytes(b"PK-arrays")
    store.write_json_atomic(upload / "upload.json", {"title": "net.h5",
                                                     "artifact": str(upload / "model/net.h5")})
    folder = _owner_run(owner, model=str(upload / "upload.json"))
    request = store.read_json(folder / store.REQUEST)
    store.write_json_atomic(folder / store.REQUEST, {**request, "data": str(upload / "data.npz")})
    before, upload_before = folder_hashes(folder), folder_hashes(upload)

    copy = copy_run(folder, viewer)
    assert folder_hashes(folder) == before and folder_hashes(upload) == upload_before
    request = store.read_json(copy / store.REQUEST)
    manifest = Path(request["model"])
    assert manifest.parent.parent == paths.session_dir(viewer) / "uploads"
    assert Path(request["data"]) == manifest.parent / "data.npz"
    assert store.read_json(manifest)["artifact"] == str(manifest.parent / "model/net.h5")
    assert (manifest.parent / "model/net.h5").read_bytes() == b"\x89HDF-weights"
    assert _no_trace_of(paths.session_dir(viewer), owner, folder.name) == []


def test_a_run_naming_other_files_of_its_owner_is_not_copied_and_leaves_nothing():
    owner, viewer = issue_token(), issue_token()
    folder = _owner_run(owner)
    elsewhere = paths.session_dir(owner) / "runs" / "other" / "float16" / "model.tflite"
    store.write_json_atomic(folder / store.CONTEXT, {"answers": {"note": str(elsewhere)},
                                                     "goals": None})   # an older run folder
    with pytest.raises(ValueError, match="cannot be copied"):
        copy_run(folder, viewer)
    home = paths.session_dir(viewer)
    assert not (home / "runs").exists() or not any((home / "runs").iterdir())
    assert not (home / ".copying").exists() or not any((home / ".copying").iterdir())


#: Library calls that write into, start work on or remove an existing run folder: every page
#: must say who asks (``workspace=``), or the owner check cannot refuse a link viewer.
ACTIONS = {"check_variants", "cancel_run", "stop_search", "start_repair"}


def test_pages_say_which_workspace_asks_for_every_action():
    calls = []
    for path in [ROOT / "app.py", *(ROOT / "pages").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                if name in ACTIONS | {"delete_run"}:
                    calls.append((path.name, name, node))
    assert {name for _file, name, _node in calls} >= ACTIONS | {"delete_run"}
    for file, name, node in calls:
        if name == "delete_run":
            assert len(node.args) + len(node.keywords) == 2, (file, name)
        else:
            assert "workspace" in {k.arg for k in node.keywords}, (file, name)
