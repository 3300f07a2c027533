"""A stage is one object: one handler per StageKind, complete at import, read by everything.

The tests that change the library do it in a temporary copy of ``optimizer/`` and import it
in a child process, so the checked-out tree is never touched.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from optimizer.guide.registry import TECHNIQUES
from optimizer.guide.stage import STAGE_ORDER, Preserve, QatScheme, Stage, StageKind
from optimizer.guide.stage_handlers import KNOBS, STAGES, stage_handler

ROOT = Path(__file__).resolve().parents[1]


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "optimizer", root / "optimizer",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _python(root: Path, code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin",
                                                       "PYTHONPATH": str(root)})


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_every_stage_kind_has_one_complete_handler():
    assert list(STAGES) == list(STAGE_ORDER) == list(StageKind)
    for kind, handler in STAGES.items():
        assert handler.kind is kind and stage_handler(kind.value) is handler
        assert handler.apply.startswith("optimizer.engine.")
        assert (handler.group is None) == (handler.config is None)
    assert set(KNOBS) == {"pruning.sparsity", "clustering.clusters"}
    with pytest.raises(ValueError):
        stage_handler("prune_channels")


def test_the_engine_resolves_every_stage_step():
    from optimizer.engine.retraining import STAGE_STEPS

    assert set(STAGE_STEPS) == set(StageKind)
    assert all(callable(step) for step in STAGE_STEPS.values())


def test_every_techniques_stages_are_ones_their_handlers_allow():
    for row in TECHNIQUES.values():
        for stage in row.stages:
            assert stage.preserve in STAGES[stage.kind].preserves, (row.id, stage)


def test_qat_schemes_are_an_enum_that_knows_its_constructor():
    assert Stage(StageKind.QAT).qat_scheme is QatScheme.DEFAULT
    assert Stage(StageKind.QAT, "sparsity+clusters").qat_scheme is \
        QatScheme.PRUNE_CLUSTER_PRESERVE
    assert QatScheme.PRUNE_CLUSTER_PRESERVE.expression == (
        "tfmot.experimental.combine.Default8BitClusterPreserveQuantizeScheme("
        "preserve_sparsity=True)")
    assert TECHNIQUES["pqat"].qat_scheme is QatScheme.PRUNE_PRESERVE
    assert TECHNIQUES["pruning"].qat_scheme is None
    with pytest.raises(ValueError):
        Stage(StageKind.QAT, "everything")
    assert {s.preserve for s in QatScheme} == {None, *Preserve}


def test_a_stage_kind_without_a_handler_fails_at_import(tmp_path):
    root = _copy(tmp_path)
    _edit(root / "optimizer/guide/stage.py", '    QAT = "qat"\n',
          '    QAT = "qat"\n    PRUNE_CHANNELS = "prune_channels"\n')
    out = _python(root, "import optimizer.guide.registry")
    assert out.returncode != 0
    assert "ImportError: no stage handler for: prune_channels" in out.stderr
    # the library as a whole does not import either: nothing can use a half-added stage
    assert _python(root, "import optimizer").returncode != 0


def test_a_stage_whose_engine_step_does_not_resolve_fails_when_the_engine_imports(tmp_path):
    root = _copy(tmp_path)
    _edit(root / "optimizer/guide/stages/qat.py", "stage_steps:run_qat", "stage_steps:run_qta")
    assert _python(root, "import optimizer.guide.registry").returncode == 0
    out = _python(root, "import optimizer.engine.retraining")
    assert out.returncode != 0
    assert "stage 'qat': its engine step optimizer.engine.stage_steps:run_qta does not " \
           "resolve" in out.stderr


_NEW_STAGE = '''
"""A test stage: structured pruning of whole channels (its engine step borrows pruning's)."""
from dataclasses import dataclass

from optimizer.guide.stage import Knob, ScriptBlock, StageHandler, StageKind


@dataclass(frozen=True)
class ChannelConfig:
    fraction: float = 0.25


def script(number, config, finetune, stage):
    return ScriptBlock(code=f"# --- Step {number}: drop {config.fraction!r} of the channels\\n",
                       header=f"channel pruning ({config.fraction:g})")


STAGE = StageHandler(
    kind=StageKind.PRUNE_CHANNELS, label="channel pruning",
    apply="optimizer.engine.stage_steps:run_pruning", script=script,
    group="prune_channels", config=ChannelConfig,
    knob=Knob(key="prune_channels.fraction", short="fraction", levels=(0.25, 0.5), low=0.05,
              high=0.9, integer=False, harsher="higher", cli_flag="--channel-fractions",
              help="channel pruning fractions"),
)
'''

_NEW_TECHNIQUE = '''
"""A test technique made of the new stage."""
from optimizer.guide.ids import DataNeed, Family
from optimizer.guide.targets import Format
from optimizer.guide.technique import SizeClass, Stage, StageKind, TechniqueInfo

TECHNIQUE = TechniqueInfo(
    id="channel_pruning", order=95, title="Channel pruning", family=Family.TRAINING,
    data=DataNeed.LABELLED, retrains=True, guide_size="-", guide_accuracy="-",
    guide_hardware="-", formats=(Format.FLOAT32,), size_factor=None, summary="-",
    action="channel pruning", color="#123456",
    stages=(Stage(StageKind.PRUNE_CHANNELS),), conversions=("float32", "*"),
    size_class=SizeClass.UNBOUNDED,
)
'''


def test_a_new_stage_kind_is_one_file_and_its_knob_reaches_the_search(tmp_path):
    root = _copy(tmp_path)
    _edit(root / "optimizer/guide/stage.py", '    PRUNING = "pruning"\n',
          '    PRUNING = "pruning"\n    PRUNE_CHANNELS = "prune_channels"\n')
    (root / "optimizer/guide/stages/prune_channels.py").write_text(_NEW_STAGE)
    (root / "optimizer/guide/techniques/channel_pruning.py").write_text(_NEW_TECHNIQUE)
    out = _python(root, """
import json
from optimizer.guide.configs import FinetuneConfig, Settings
from optimizer.report.reproduce import reproduce_script
from optimizer.search.candidates import plan_candidates
from optimizer.search.request import SearchRequest
from optimizer.guide.schema import Result
from optimizer.search.rules import size_floor
plan = plan_candidates("cpu", "labelled", None, {"prune_channels.fraction": [0.3]})
request = SearchRequest(model="m", knob_levels={"prune_channels.fraction": [0.3, 0.6]})
settings = Settings.from_pairs(["prune_channels.fraction=0.4"])
script = reproduce_script("channel_pruning+integer", settings,
                          {"prune_channels": FinetuneConfig()})
measured = [Result(technique="float32", model="m", size_bytes=1000, gzip_bytes=900)]
floor = {c.spec: size_floor(c, measured, "raw")[0] for c in plan.candidates
         if c.spec in ("channel_pruning", "pruning")}
print(json.dumps({"ids": [c.id for c in plan.candidates], "levels": request.knob_levels,
                  "setting": settings.prune_channels.fraction, "script": script,
                  "floor": floor}))
""")
    assert out.returncode == 0, out.stderr[-2000:]
    found = json.loads(out.stdout)
    assert "channel_pruning[fraction=0.3]" in found["ids"]
    assert "channel_pruning+integer[fraction=0.3]" in found["ids"]
    assert found["levels"]["prune_channels.fraction"] == [0.3, 0.6]
    assert found["levels"]["pruning.sparsity"] == [0.5, 0.75]      # the others keep defaults
    assert found["setting"] == 0.4
    assert "# --- Step 1: drop 0.4 of the channels" in found["script"]
    # an unbounded size class is never skipped for its size; pruning is floored at float32's
    assert found["floor"] == {"channel_pruning": None, "pruning": 995}
