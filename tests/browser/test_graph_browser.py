"""The Graph page in Debian's headless Chromium, on a real digits-outliers run: Model Explorer
draws the float model beside int8 with the int8 error overlay and the worst layer highlighted;
a downloaded overlay is node data keyed by the file's node ids; no request reads a file outside
the workspace; a share link's viewer is not offered the MLflow export.

The run is made in the session server's workspace (a CLI run of digits-outliers with
``integer``, about 25 s) for a workspace token the server issued; the per-layer error is
measured by pressing the page's button (a job process, about 30 s). Skipped, with the reason,
without Model Explorer.
"""
from __future__ import annotations

import http.client
import importlib.util
import io
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser_helpers import screenshot, wait_for_app
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.cost(150),
              pytest.mark.skipif(importlib.util.find_spec("model_explorer") is None,
                                 reason="Model Explorer is not installed: run `make "
                                        "setup-graph` (CI runs it)")]

ROOT = Path(__file__).resolve().parents[2]
COMPONENT = "/component/pages.common.graph_view.model_explorer"
SECRET = "not-for-browsers-" + secrets.token_hex(8)


@pytest.fixture(scope="module")
def graph_app(streamlit_server, streamlit_workspace, tmp_path_factory):
    """``(url, owner token, run id, run folder, secret file)``: the session's server, whose
    workspace now holds one finished digits-outliers run (float32, integer) of a workspace
    ``owner`` the server issued."""
    secret = tmp_path_factory.mktemp("outside") / "secret.txt"
    secret.write_text(SECRET)
    env = {**os.environ, "OPTIMIZER_WORKSPACE": str(streamlit_workspace)}
    owner = subprocess.run([sys.executable, "-c", "from optimizer.workspace.browser import "
                            "issue_token; print(issue_token())"], cwd=ROOT, env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    run_id = time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(16)
    folder = streamlit_workspace / "sessions" / owner / "runs" / run_id
    folder.parent.mkdir(parents=True)
    done = subprocess.run([sys.executable, "-m", "optimizer", "run", "--model",
                           "digits-outliers", "--technique", "integer", "--out", str(folder)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    subprocess.run([sys.executable, "-c", "import sys; from optimizer.workspace.index import "
                    "record; record(sys.argv[1])", str(folder)], cwd=ROOT, env=env, check=True)
    return streamlit_server, owner, run_id, folder, secret


def _explorer(page):
    return page.frame_locator(f"iframe[src*='{COMPONENT}']")


def _measured(page, url, owner) -> None:
    """Open the Graph page; measure the per-layer error if it has not been yet."""
    page.goto(f"{url}/graph?w={owner}")
    wait_for_app(page)
    button = page.get_by_role("button", name="Measure the per-layer int8 error")
    legend = page.get_by_test_id("graph-legend").first
    expect(button.or_(legend)).to_be_visible(timeout=60_000)
    if button.is_visible():
        button.click()
    expect(legend).to_contain_text("worst:", timeout=300_000)
    wait_for_app(page)
    expect(page.locator(f"iframe[src*='{COMPONENT}']")).to_have_count(1)   # no stale view


def test_the_worst_int8_layer_is_highlighted_in_model_explorer(page, graph_app):
    url, owner, _run_id, folder, _secret = graph_app
    requests = []
    page.context.on("request", lambda r: requests.append(r.url))
    _measured(page, url, owner)
    report = json.loads((folder / "graph-layers" / "layers.json").read_text())
    worst = max(report["before"], key=lambda e: e["rmse_scale"])
    assert worst["layer"] == "normalize"       # the demo's raw-unit inputs hit its first layer
    value = f"{worst['rmse_scale']:.3g}"
    expect(page.get_by_test_id("graph-legend").first).to_contain_text(
        f"worst: normalize ({worst['op']}), {value}")
    explorer = _explorer(page)
    # both panes open on the worst op, its node data shown beside it
    expect(explorer.get_by_text("integer | main (integer)")).to_be_visible(timeout=60_000)
    expect(explorer.get_by_text("NODE DATA PROVIDERS")).to_have_count(2, timeout=60_000)
    shown = explorer.get_by_text(value, exact=True).filter(visible=True)
    expect(shown).to_have_count(2)             # the selected op's value, in each pane
    expect(explorer.get_by_text(worst["name"]).filter(visible=True).first).to_be_visible()
    page.wait_for_timeout(1500)                # the WebGL graph settles after layout
    from PIL import Image

    canvas = explorer.locator("canvas").first
    pixels = Image.open(io.BytesIO(canvas.screenshot())).convert("RGB").getdata()
    red = sum(1 for r, g, b in pixels if abs(r - 0xB7) < 12 and g < 45 and b < 45)
    assert red > 200, f"the worst op's dark red fill is not drawn ({red} pixels)"
    outside = [u for u in requests if not u.startswith((url, "data:", "blob:"))]
    assert outside == []                       # offline: nothing but this server
    assert any("/component/" in u and u.endswith(".js") for u in requests)
    screenshot(page, "graph-int8-error")


def test_a_downloaded_overlay_is_node_data_keyed_by_the_files_node_ids(page, graph_app):
    from optimizer.graph.convert import graph_json
    from optimizer.graph.ops import read_ops

    url, owner, _run_id, folder, _secret = graph_app
    _measured(page, url, owner)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download integer overlay").click()
    assert info.value.suggested_filename == "integer.int8-error.node-data.json"
    data = json.loads(Path(info.value.path()).read_text())
    tflite = folder / "integer" / "model.tflite"
    nodes = {n["id"]: n for n in graph_json(tflite)["graphs"][0]["nodes"]}
    ops = {op.node_id: op for op in read_ops(tflite)}
    assert data["name"] == "int8 error (RMSE / scale)" and data["thresholds"]
    assert set(data["results"]) <= set(nodes) and set(data["results"]) <= set(ops)
    assert {ops[k].op for k in data["results"]} == {"MUL", "FULLY_CONNECTED", "SOFTMAX"}
    assert all(isinstance(v["value"], float) for v in data["results"].values())
    worst = max(data["results"], key=lambda k: data["results"][k]["value"])
    assert ops[worst].op == "MUL"                                  # normalize, the first layer
    assert [k for k, v in data["results"].items() if "bgColor" in v] == [worst]
    page.get_by_test_id("stButtonGroup").get_by_text("Precision", exact=True).click()
    wait_for_app(page)
    with page.expect_download() as info:
        page.get_by_role("button", name="Download integer overlay").click()
    precision = json.loads(Path(info.value.path()).read_text())
    assert set(precision["results"]) == set(ops)
    assert precision["results"]["1"]["value"] == "int8"
    assert precision["results"]["0"]["value"] == "conversion"


def test_the_latency_run_recorded_the_kernel_of_each_op(graph_app):
    from optimizer.graph.ops import read_ops

    _url, _owner, _run_id, folder, _secret = graph_app
    for result in json.loads((folder / "results.json").read_text())["results"]:
        kernels = result["latency_op_kernels"]
        assert len(kernels) == len(read_ops(result["tflite_path"]))
        builtin = kernels.count("builtin")
        assert result["latency_kernels"] == (f"XNNPACK + {builtin} builtin ops" if builtin
                                             else "XNNPACK")


def _get(url: str, path: str) -> tuple[int, bytes]:
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", path)      # sent as written: no client-side clean-up of ".."
    resp = conn.getresponse()
    return resp.status, resp.read()


def test_no_request_reads_a_file_outside_the_workspace(page, graph_app):
    url, owner, run_id, folder, secret = graph_app
    up = "../" * 12
    for path in (f"{COMPONENT}/{up}{secret.relative_to('/')}",
                 f"{COMPONENT}/{'%2e%2e/' * 12}{secret.relative_to('/')}",
                 f"{COMPONENT}/{'..%2F' * 12}{str(secret.relative_to('/')).replace('/', '%2F')}",
                 f"{COMPONENT}/%2F{str(secret).lstrip('/')}",
                 f"{COMPONENT}/{secret}",
                 f"/api/v1/read_text_file?path={secret}", f"/read_file?path={secret}",
                 "/api/v1/load_graphs_json?graph_index=0",
                 f"{COMPONENT}/api/v1/read_text_file?path={secret}",
                 f"/component/{up}{secret.relative_to('/')}"):
        status, body = _get(url, path)
        assert SECRET.encode() not in body, path
        assert str(folder).encode() not in body, path
    # inside the page, Model Explorer's own file route is answered by the bridge: refused
    _measured(page, url, owner)
    expect(_explorer(page).get_by_text("NODE DATA PROVIDERS").first).to_be_visible(
        timeout=60_000)                        # Model Explorer runs: the bridge is in place
    frame = next(f for f in page.frames if COMPONENT in f.url and not f.is_detached())
    answer = frame.evaluate("p => fetch('/api/v1/read_text_file?path=' + p)"
                            ".then(r => r.text().then(t => [r.status, t]))", str(secret))
    assert answer[0] == 403 and "refused" in answer[1] and SECRET not in answer[1], answer
    answer = frame.evaluate("p => fetch('/read_file?path=' + p).then(r => r.status)",
                            str(secret))
    assert answer == 403
    # another browser (another workspace; a hand-made token is not adopted) sees none of them
    other = page.context.browser.new_page()
    other.goto(f"{url}/graph?w={secrets.token_urlsafe(16)}")
    wait_for_app(other)
    expect(other.get_by_text("No finished run or search yet")).to_be_visible()
    other.close()


def test_the_graph_tab_and_the_mlflow_button_are_the_owners(page, graph_app):
    url, owner, run_id, _folder, _secret = graph_app
    page.goto(f"{url}/results?w={owner}")
    wait_for_app(page)
    expect(page.get_by_role("tab", name="Graph")).to_be_visible()
    export = page.get_by_role("button", name="Export to MLflow")
    enable = page.get_by_text("run `make setup-mlflow`")
    expect(export.or_(enable).first).to_be_visible()
    viewer = page.context.browser.new_page()              # another browser, with the link
    viewer.goto(f"{url}/results?run={run_id}")
    wait_for_app(viewer)
    expect(viewer.get_by_text("A shared run, opened from its link")).to_be_visible()
    expect(viewer.get_by_text("digits-outliers").first).to_be_visible()
    assert viewer.get_by_role("button", name="Export to MLflow").count() == 0
    assert viewer.get_by_text("run `make setup-mlflow`").count() == 0
    viewer.get_by_role("tab", name="Graph").click()
    wait_for_app(viewer)
    # the viewer sees what the owner measured, and can start nothing
    legend = viewer.get_by_test_id("graph-legend").first
    expect(legend.or_(viewer.get_by_text("its owner can measure it"))).to_be_visible()
    assert viewer.get_by_role("button", name="Measure the per-layer int8 error").count() == 0
    viewer.close()
