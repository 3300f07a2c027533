"""LiteRT's ahead-of-time tool with a vendor's compiler plugin, run on one ``.tflite``.

``ai_edge_litert.aot.aot_compile`` runs the same shipped binary (``tools/apply_plugin_main``)
but keeps only the partition counts when it succeeds and leaves its log in a temporary
``*.error`` file when it fails. The checks need the log itself -- the compiler's reason for
every op it refuses ("LiteRT Op #2 'Atan2' (code=156) is not supported in Qualcomm
Compiler.") -- so the tool is run here with the arguments ``aot_compile`` gives it, and the
log is parsed and kept. ``cmd="apply"`` partitions and compiles; ``cmd="partition"`` only asks
the plugin which ops it takes.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from optimizer import compat

#: The counts LiteRT's compiler plugin logs for each subgraph.
PARTITIONED = re.compile(r"Partitioned subgraph<(\d+)>, selected (\d+) ops, from a total of "
                         r"(\d+) ops\. resulted in (\d+) partitions")
TIMEOUT_S = 600


@dataclass(frozen=True)
class PluginRun:
    """What one run of the AOT tool did: its exit status, log lines, time and counts."""

    returncode: int
    log: tuple
    seconds: float
    stats: tuple = field(default_factory=tuple)  # (subgraph, selected, total, partitions)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def errors(self) -> list[str]:
        """The log's ERROR lines, without the logger's prefix, most specific first."""
        found = [re.sub(r"^ERROR: \[[^\]]*\]\s*", "", line) for line in self.log
                 if "ERROR" in line or "rror:" in line or "Unsupported" in line]
        return [line for line in found if line.strip()][::-1]


def run_plugin(data: bytes, vendor: str, manufacturer: str, soc: str, cmd: str,
               sdk_libs: list[Path]) -> PluginRun:
    """Run ``apply_plugin_main --cmd=<cmd>`` on ``data`` with ``vendor``'s compiler plugin.

    ``sdk_libs`` are the vendor's host libraries (searched first, as ``aot_compile`` does).
    """
    root = compat.litert_package_dir()
    binary = root / "tools" / "apply_plugin_main"
    plugin = root / "vendors" / vendor / "compiler"
    if not binary.is_file() or not plugin.is_dir():
        raise ValueError(f"this ai-edge-litert install has no AOT tool or {vendor} plugin "
                         f"({binary}); AOT compilation runs on Linux x86-64 only")
    search = [str(p) for p in sdk_libs] + [str(root), str(plugin)]
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [*search,
                                                          env.get("LD_LIBRARY_PATH")]))
    with tempfile.TemporaryDirectory(prefix="readiness-aot-") as folder:
        model, out = Path(folder) / "model.tflite", Path(folder) / "out.tflite"
        model.write_bytes(data)
        start = time.perf_counter()
        try:
            done = subprocess.run(
                [str(binary), f"--cmd={cmd}", f"--model={model}", f"--o={out}",
                 f"--soc_manufacturer={manufacturer}", f"--soc_model={soc}", f"--libs={plugin}",
                 "--err=--"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                errors="replace", env=env, cwd=folder, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return PluginRun(124, (f"the AOT tool did not finish within {TIMEOUT_S} s",),
                             float(TIMEOUT_S))
        seconds = time.perf_counter() - start
    log = tuple(line.rstrip() for line in done.stdout.splitlines() if line.strip())
    stats = tuple((int(a), int(b), int(c), int(d)) for a, b, c, d in
                  PARTITIONED.findall(done.stdout))
    return PluginRun(done.returncode, log, seconds, stats)


def soc_names(vendor: str) -> list[str]:
    """The SoC names the vendor's AOT target accepts (``SocModel``), ALL excluded."""
    return [m.value for m in compat.litert_aot_target(vendor).SocModel if m.value != "ALL"]
