"""An environment in which the NPU tools look absent to a child process, even where
``make setup-npu`` ran: no QNN libraries in ``OPTIMIZER_NPU_DIR`` and an
``ai_edge_litert_sdk_intel`` that cannot be imported (a stub first on ``PYTHONPATH``)."""
from __future__ import annotations

import os
from pathlib import Path


def hidden_npu_env(tmp_path: Path) -> dict:
    """``os.environ`` plus what hides the Qualcomm and Intel tools."""
    stub = tmp_path / "hide-npu"
    package = stub / "ai_edge_litert_sdk_intel"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    (tmp_path / "no-npu").mkdir(exist_ok=True)
    return {**os.environ, "OPTIMIZER_NPU_DIR": str(tmp_path / "no-npu"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(stub),
                                                        os.environ.get("PYTHONPATH")]))}
