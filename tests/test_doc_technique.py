"""Prove the doc: the technique block of docs/ARCHITECTURE.md, saved as ONE new file under
``optimizer/guide/techniques/`` of a temporary copy of the repository, is all it takes.

``techniques --json`` lists it, ``run --technique <id>`` measures it like the others on
digits-cnn (an ok result with measured accuracy, size and latency), the search's CPU candidates
try it, and the app offers it (the function the Recommendation page's technique choices use).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.guide.registry import TECHNIQUES

pytestmark = pytest.mark.cost(60)

ROOT = Path(__file__).resolve().parents[1]
FIRST_LINE = "# A complete new post-training technique"


def doc_block() -> str:
    """The fenced Python block of docs/ARCHITECTURE.md that starts with ``FIRST_LINE``."""
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    found = [b for b in blocks if b.splitlines()[0] == FIRST_LINE]
    assert len(found) == 1, f"docs/ARCHITECTURE.md needs one ```python block starting {FIRST_LINE!r}"
    return found[0]


def block_id(block: str) -> str:
    match = re.search(r'\bid="(\w+)"', block)
    assert match, "the doc's technique names no id"
    return match.group(1)


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> tuple[Path, str]:
    """A copy of the repository with the doc's block saved as one new technique file."""
    block = doc_block()
    tid = block_id(block)
    root = tmp_path_factory.mktemp("doc") / "repo"
    for part in ("optimizer", "pages", "assets"):
        shutil.copytree(ROOT / part, root / part, ignore=shutil.ignore_patterns("__pycache__"))
    (root / "optimizer" / "guide" / "techniques" / f"{tid}.py").write_text(block)
    return root, tid


def _run(root: Path, *args, timeout=300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root), "OPTIMIZER_WORKSPACE": str(root / "ws")}
    return subprocess.run([sys.executable, *args], cwd=root, capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_the_doc_defines_a_technique_not_in_the_project():
    tid = block_id(doc_block())
    assert tid not in TECHNIQUES, (f"'{tid}' is now a real technique: give the doc's example "
                                   "another id")
    assert not (ROOT / "optimizer" / "guide" / "techniques" / f"{tid}.py").exists()


def test_the_technique_is_listed(copy):
    root, tid = copy
    out = _run(root, "-m", "optimizer", "techniques", "--json", "-")
    assert out.returncode == 0, out.stderr[-2000:]
    rows = {r["id"]: r for r in json.loads(out.stdout)["techniques"]}
    assert rows[tid]["family"] == "post-training" and rows[tid]["engine"] == "litert_quantizer"
    assert "cpu" in rows[tid]["targets"]
    ids = list(rows)
    assert ids.index(tid) > ids.index("float32")        # its order places it in the table


def test_the_search_and_the_app_offer_it(copy):
    root, tid = copy
    out = _run(root, "-c", f"""
import json
from optimizer.guide.registry import TechniqueId, all_specs, parse_spec
from optimizer.search.candidates import plan_candidates
from pages.common.runs import all_specs as page_choices
plan = plan_candidates("cpu", "labelled", None)
print(json.dumps({{"post": plan.batches[0].ids, "all": [c.id for c in plan.candidates],
                  "page": page_choices(), "registry": list(all_specs()),
                  "member": TechniqueId["{tid.upper()}"].value,
                  "edgetpu": dict(plan_candidates("edgetpu", "labelled", None).excluded)}}))
""")
    assert out.returncode == 0, out.stderr[-2000:]
    found = json.loads(out.stdout)
    assert tid in found["post"]                           # the post-training batch tries it
    assert f"pruning+{tid}[sparsity=0.5]" in found["all"]  # and after pruning
    assert tid in found["page"] and f"pruning+{tid}" in found["page"]
    assert found["page"] == found["registry"] and found["member"] == tid
    assert "full-integer" in found["edgetpu"][tid]        # a weight-only file is not int8-only


@pytest.mark.slow
def test_run_measures_it_like_the_others(copy, tmp_path):
    root, tid = copy
    out_json = tmp_path / "run.json"
    out = _run(root, "-m", "optimizer", "run", "--model", "digits-cnn", "--technique", tid,
               "--out", str(tmp_path / "run"), "--json", str(out_json), timeout=600)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    results = {r["technique"]: r for r in json.loads(out_json.read_text())["results"]}
    base, mine = results["float32"], results[tid]
    assert mine["status"] == "ok", mine.get("error")
    assert mine["engine"] == "litert-quantizer"
    assert 0.5 < mine["accuracy"] <= 1.0 and mine["accuracy_delta"] is not None
    assert mine["size_bytes"] < 0.5 * base["size_bytes"]          # int8 weights, on disk
    assert mine["latency_ms_median"] > 0 and mine["latency_ms_p90"] >= mine["latency_ms_p10"]
    assert "DEQUANTIZE" in mine["ops"]                            # weight-only: float compute
    recipe = json.loads(Path(mine["recipe_path"]).read_text())
    assert recipe["conversion"]["technique"] == tid and recipe["conversion"]["quantizer"]
