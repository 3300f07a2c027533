"""``python -m optimizer bench first-chart``: the three-click path timed in a real browser.

Starts the app (``streamlit run app.py``) on a fresh workspace with the result cache off,
opens it in Chromium (Playwright, Debian's ``/usr/bin/chromium`` or ``CHROMIUM_PATH``) and
clicks what a newcomer clicks on the default demo: **Next → See my recommendation → Run**, each
as soon as its page is ready (the fastest possible user). It does this twice on the same
server: ``cold`` (the app just started: no warm job process yet, TensorFlow not imported
anywhere) and ``warm`` (a new browser session afterwards: the worker slot's warm job process
is up). For each pass it prints:

* ``first_chart_s``: from opening the app to the first chart of measured results on the Run
  page (drawn as results arrive), and ``done_s`` to the whole run on screen ("See the full
  results" enabled with the final chart);
* ``journey_s``: from opening the app to the Run click (page loads of the three clicks);
* the app's own overhead, from the run's events (``events.jsonl``, written by the
  orchestrator; the same clock): ``click_to_first_event_s`` (the Run click to the
  orchestrator's first event), split into ``click_to_start_run_s`` (the page's rerun up to
  ``start_run`` writing ``request.json``) and ``start_run_to_first_event_s`` (spawning the
  orchestrator and its start-up),
  ``first_result_to_chart_s`` (the first measured result on disk to the chart on screen:
  polling and drawing), ``last_event_to_done_s`` (the run's last event to the final page);
* ``run_work_s``: the run itself, from its ``run_started`` to its ``run_finished`` event, and
  when its first result was measured (``first_result_s``, from ``run_started``).

Every figure is a wall-clock measurement on this machine, printed with the load average
before and after (another process competing for the CPUs makes every figure longer).
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from optimizer import numbers, paths
from optimizer.artifacts import store

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--no-default-browser-check"]
#: Longest wait for one step (the whole run on a loaded machine included).
STEP_TIMEOUT_MS = 600_000


def first_chart(out: Path | str | None = None, chromium: str | None = None,
                passes: tuple = ("cold", "warm")) -> dict:
    """Run the benchmark (see the module doc) and return its figures."""
    from optimizer.measuring.latency import host_description

    out = Path(out) if out else paths.workspace() / "bench" / (
        f"first-chart-{time.strftime('%Y%m%d-%H%M%S')}")
    workspace = out / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    chromium = chromium or os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(chromium).exists():
        raise ValueError(f"no Chromium at {chromium}: install Debian's (`make chromium`) or set "
                         f"CHROMIUM_PATH")
    load_before = os.getloadavg()
    figures = {"benchmark": "first-chart", "model": "digits-cnn", "passes": {},
               "measured_on": host_description(), "cpu_count": os.cpu_count(),
               "load_average_before": [round(v, 2) for v in load_before], "out": str(out)}
    server, url = _start_app(workspace, out / "streamlit.log")
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            try:
                for name in passes:
                    figures["passes"][name] = _one_pass(browser, url, workspace, out, name)
                    figures["passes"][name]["warm_rss_mib"] = warm_memory(workspace)
            finally:
                browser.close()
    finally:
        _stop(server)
        _stop_warm(workspace)
    figures["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    store.write_json_atomic(out / "figures.json", figures)
    return figures


def _start_app(workspace: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "OPTIMIZER_WORKSPACE": str(workspace), "OPTIMIZER_RESULT_CACHE": "off"}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port),
               "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(command, cwd=paths.REPO_ROOT, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read() == b"ok":
                    return proc, url
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            _stop(proc)
            raise RuntimeError(f"the app did not start; see {log_path}")
        time.sleep(0.1)


def _one_pass(browser, url: str, workspace: Path, out: Path, name: str) -> dict:
    """Open the app in a new browser session, click the three buttons, time the charts."""
    from playwright.sync_api import expect

    expect.set_options(timeout=STEP_TIMEOUT_MS)
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    warm_before = _warm_ready(workspace)
    try:
        opened = time.time()
        page.goto(url)
        expect(page.get_by_test_id("stMetric").first).to_be_visible()    # the model card
        page.get_by_role("button", name="Next: your situation").click()   # click 1
        expect(page.get_by_role("button", name="See my recommendation")).to_be_visible()
        page.get_by_role("button", name="See my recommendation").click()  # click 2
        run_button = page.get_by_role("button", name=re.compile(r"^Run \d+ models now"))
        expect(run_button).to_be_visible()
        before = set(workspace.glob("sessions/*/runs/*"))
        clicked = time.time()
        run_button.click()                                                 # click 3
        expect(page.get_by_test_id("stProgress")).to_be_visible()          # the Run page
        chart = page.get_by_test_id("stPlotlyChart").filter(has_text="Accuracy vs")
        expect(chart.first.locator(".main-svg").first).to_be_visible()     # drawn, not only sent
        first_chart = time.time()
        expect(page.get_by_role("button", name="See the full results")).to_be_enabled()
        expect(chart.first.locator(".main-svg").first).to_be_visible()
        done = time.time()
        page.screenshot(path=str(out / f"{name}-done.png"), full_page=True)
    finally:
        context.close()
    folders = [f for f in workspace.glob("sessions/*/runs/*") if f not in before]
    events = _events(folders[0]) if folders else []
    requested = (folders[0] / store.REQUEST).stat().st_mtime if folders else None
    return _figures(events, opened, clicked, first_chart, done, warm_before, requested,
                    str(folders[0]) if folders else None)


def _figures(events: list, opened: float, clicked: float, first_chart: float, done: float,
             warm_before: bool, requested: float | None, folder: str | None) -> dict:
    started = next((e["t"] for e in events if e["type"] == "run_started"), None)
    finished = next((e["t"] for e in events if e["type"] == "run_finished"), None)
    measured = next((e["t"] for e in events if e["type"] == "measured"), None)
    jobs = [e for e in events if e["type"] == "job_finished"]

    def span(a, b):
        return None if a is None or b is None else round(b - a, 2)

    return {
        "first_chart_s": span(opened, first_chart), "done_s": span(opened, done),
        "journey_s": span(opened, clicked),
        "click_to_first_event_s": span(clicked, events[0]["t"] if events else None),
        "click_to_start_run_s": span(clicked, requested),   # the page's rerun to start_run
        "start_run_to_first_event_s": span(requested, events[0]["t"] if events else None),
        "first_result_to_chart_s": span(measured, first_chart),
        "last_event_to_done_s": span(events[-1]["t"] if events else None, done),
        "run_work_s": span(started, finished), "first_result_s": span(started, measured),
        "warm_job_processes": [bool(e.get("warm")) for e in jobs],
        "warm_process_ready_at_open": warm_before, "run_folder": folder,
    }


def _events(folder: Path) -> list[dict]:
    from optimizer.artifacts.events import read_events

    return read_events(folder / store.EVENTS)


def _warm_ready(workspace: Path) -> bool:
    info = store.read_json(workspace / "slots" / "warm-0.lock.json")
    return bool(isinstance(info, dict) and info.get("ready"))


def warm_memory(workspace: Path) -> dict:
    """Resident memory (MiB, from /proc) of each warm job process of ``workspace``'s slots,
    keyed by slot: what the bounded pool holds between jobs."""
    memory = {}
    for lock in sorted((workspace / "slots").glob("warm-*.lock.json")):
        info = store.read_json(lock)
        pid = info.get("pid") if isinstance(info, dict) else None
        try:
            status = Path(f"/proc/{int(pid)}/status").read_text()
        except (TypeError, ValueError, OSError):
            continue
        kib = next((int(line.split()[1]) for line in status.splitlines()
                    if line.startswith("VmRSS:")), None)
        if kib is not None:
            memory[lock.name.split(".")[0].removeprefix("warm-")] = round(kib / 1024, 1)
    return memory


def _stop(proc: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def _stop_warm(workspace: Path) -> None:
    """The benchmark's warm job processes end with it (they live in its workspace)."""
    subprocess.run([sys.executable, "-c", "from optimizer.runs.warm import stop_all; stop_all()"],
                   env={**os.environ, "OPTIMIZER_WORKSPACE": str(workspace)}, timeout=120,
                   check=False)


def _memory_text(memory: dict | None) -> str:
    if not memory:
        return "not read"
    return ", ".join(f"slot {slot} {numbers.sig(mib)} MiB" for slot, mib in memory.items())


def summary_lines(figures: dict) -> list[str]:
    """The figures as lines of text (the CLI prints these)."""
    lines = [f"first-chart on {figures['model']} ({figures['measured_on']}); load average "
             f"{numbers.fixed(figures['load_average_before'][0], 2)} before, "
             f"{numbers.fixed(figures['load_average_after'][0], 2)} after"]
    for name, f in figures["passes"].items():
        lines.append(
            f"{name:<5} first chart {f['first_chart_s']} s, whole run on screen {f['done_s']} s "
            f"after opening the app (three clicks {f['journey_s']} s); run work "
            f"{f['run_work_s']} s, first result at {f['first_result_s']} s; Run click -> first "
            f"event {f['click_to_first_event_s']} s ({f['click_to_start_run_s']} s to "
            f"start_run), first result -> chart "
            f"{f['first_result_to_chart_s']} s, last event -> final page "
            f"{f['last_event_to_done_s']} s; warm jobs {f['warm_job_processes']}; warm "
            f"processes' memory {_memory_text(f.get('warm_rss_mib'))}")
    lines.append(json.dumps({name: {k: f[k] for k in ("first_chart_s", "done_s", "run_work_s")}
                             for name, f in figures["passes"].items()}))
    return lines
