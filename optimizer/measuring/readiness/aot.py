"""The NPU checks' shared half: LiteRT's ahead-of-time tool with a vendor's compiler plugin, run
on one ``.tflite``, and its log turned into a verdict that fails closed.

``ai_edge_litert.aot.aot_compile`` runs the same shipped binary (``tools/apply_plugin_main``)
but keeps only the partition counts when it succeeds and leaves its log in a temporary
``*.error`` file when it fails. The checks need the log itself -- the compiler's reason for
every op it refuses ("LiteRT Op #2 'Atan2' (code=156) is not supported in Qualcomm
Compiler.") -- so the tool is run here with the arguments ``aot_compile`` gives it, and the
log is parsed and kept. ``cmd="apply"`` partitions and compiles; ``cmd="partition"`` only asks
the plugin which ops it takes.

What differs per vendor (plugin, manufacturer, SoCs, host libraries, how refusals are logged)
is an ``AotVendor`` in ``qualcomm.py`` and ``intel.py``; ``check_with_plugin`` is the rest.
It says "ready" only when the tool exited cleanly, logged the main graph's partition counts,
those counts cover every op of the file and every op was taken. A tool that fails, times out
or logs no counts gives "could not check: <why>" (never "ready" from the absence of refusal
lines, never every op "unsupported"); counts that contradict the file or the refusal lines
do too.
"""
from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from optimizer import compat
from optimizer.measuring.facts import model_bytes
from optimizer.measuring.readiness.contract import SetupMissing, could_not_check
from optimizer.measuring.readiness.graph import read_graph
from optimizer.measuring.readiness.report import Readiness, grouped, stay
from optimizer.text import Message, figure, msg

#: The counts LiteRT's compiler plugin logs for each subgraph.
PARTITIONED = re.compile(r"Partitioned subgraph<(\d+)>, selected (\d+) ops, from a total of "
                         r"(\d+) ops\. resulted in (\d+) partitions")
TIMEOUT_S = 600
#: Words of the log lines that say what went wrong.
_ERROR_WORDS = ("ERROR", "rror:", "Unsupported", "Could not", "Failed to", "cannot open")


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
        found = [re.sub(r"^[^A-Za-z]*(ERROR: \[[^\]]*\]\s*)?", "", line) for line in self.log
                 if any(word in line for word in _ERROR_WORDS)]
        return [line for line in found if line.strip()][::-1]


@dataclass(frozen=True)
class AotVendor:
    """One vendor's compiler plugin as the shared check needs it.

    ``refused(log, graph)`` maps the index of every op the plugin's log says it refused to the
    log's reason; ``libs()`` lists the vendor's host library folders; ``missing()`` says why
    the tools are absent (naming ``make setup-npu``) or None.
    """

    vendor: str            # the folder under ai_edge_litert/vendors
    manufacturer: str      # apply_plugin_main's --soc_manufacturer
    tool: str              # how the summary names the tool: "Qualcomm's compiler"
    soc_kind: str          # "Snapdragon SoC"
    default_soc: str
    method: str            # "compiled" or "partitioned"
    cmd: str               # "apply" or "partition"
    note: str              # what the check does not do ("not run on one")
    log_key: str           # the details key of the log's tail
    libs: Callable
    missing: Callable
    refused: Callable


def run_plugin(data: bytes, vendor: str, manufacturer: str, soc: str, cmd: str,
               sdk_libs: list[Path]) -> PluginRun:
    """Run ``apply_plugin_main --cmd=<cmd>`` on ``data`` with ``vendor``'s compiler plugin.

    ``sdk_libs`` are the vendor's host libraries (searched first, as ``aot_compile`` does).
    A tool that cannot start or does not finish gives a failed ``PluginRun`` saying so.
    """
    root = compat.litert_package_dir()
    binary = root / "tools" / "apply_plugin_main"
    plugin = root / "vendors" / vendor / "compiler"
    if not binary.is_file() or not plugin.is_dir():
        return PluginRun(127, (msg("this ai-edge-litert install has no AOT tool or {vendor} "
                                   "plugin ({binary}); AOT compilation runs on Linux x86-64 "
                                   "only", vendor=vendor, binary=binary),),
                         0.0)
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
            return PluginRun(124, (msg("the AOT tool did not finish within {seconds} s",
                                       seconds=TIMEOUT_S),),
                             float(TIMEOUT_S))
        except OSError as exc:
            return PluginRun(126, (msg("the AOT tool could not start: {error}", error=exc),),
                             time.perf_counter() - start)
        seconds = time.perf_counter() - start
    return parse_run(done.returncode, done.stdout, seconds)


def parse_run(returncode: int, output: str, seconds: float) -> PluginRun:
    """A ``PluginRun`` from the tool's exit status and its combined output."""
    log = tuple(line.rstrip() for line in output.splitlines() if line.strip())
    stats = tuple((int(a), int(b), int(c), int(d)) for a, b, c, d in PARTITIONED.findall(output))
    return PluginRun(returncode, log, seconds, stats)


def soc_names(vendor: str) -> list[str]:
    """The SoC names the vendor's AOT target accepts (``SocModel``), ALL excluded."""
    return [m.value for m in compat.litert_aot_target(vendor).SocModel if m.value != "ALL"]


def check_with_plugin(path, target, options, spec: AotVendor, run=run_plugin) -> Readiness:
    """Run ``spec``'s plugin on ``path`` for ``options["soc"]`` and judge its log.

    Raises ``SetupMissing`` when the vendor's tools are absent and ``ValueError`` for an
    unknown SoC or a file that is not a ``.tflite``. ``run`` is the tool runner (a test may
    hand in a fake one that returns a ``PluginRun``).
    """
    missing = spec.missing()
    if missing:
        raise SetupMissing(missing)
    soc = (options.get("soc") or spec.default_soc).upper()
    known = soc_names(spec.vendor)
    if soc not in known:
        raise ValueError(f"unknown {spec.soc_kind} '{soc}'; use one of {', '.join(known)}")
    data = model_bytes(path)
    graph = read_graph(data)
    done = run(data, spec.vendor, spec.manufacturer, soc, spec.cmd, spec.libs())
    return judge(done, graph, target, soc, spec)


def judge(done: PluginRun, graph, target, soc: str, spec: AotVendor) -> Readiness:
    """The verdict on one tool run over ``graph`` (see the module docstring)."""
    details = {"soc": soc, "seconds": round(done.seconds, 3), "note": spec.note,
               spec.log_key: list(done.log[-8:])}

    def unsure(why: str) -> Readiness:
        return could_not_check(target, spec.method, why, details)

    if not done.ok:
        said = done.errors() or list(done.log[-1:])
        reason = (said or [msg("it exited with status {code} without a message",
                               code=done.returncode)])[0]
        reason = reason if isinstance(reason, Message) else reason[:300]
        return unsure(msg("{tool} failed for {soc}: {reason}", tool=msg(spec.tool), soc=soc,
                          reason=reason))
    main = next((s for s in done.stats if s[0] == 0), None)
    if main is None:
        return unsure(msg("{tool}'s output was not understood: it logged no partition counts "
                          "for the main graph (the log's last line: {line})",
                          tool=msg(spec.tool), line=(done.log or ("nothing",))[-1][:160]))
    _, selected, total, partitions = main
    if total != len(graph.ops) or selected > total:
        return unsure(msg("{tool} counted {selected} of {total} ops but the file's main graph "
                          "has {ops}: its output does not match the file", tool=msg(spec.tool),
                          selected=selected, total=total, ops=len(graph.ops)))
    refused = spec.refused(done.log, graph)
    details.update(ops_offloaded=selected, ops_total=total, partitions=partitions)
    where = (msg("{count} partitions", count=partitions) if partitions and partitions != 1
             else msg("{count} partition", count=partitions) if partitions else msg("the NPU"))
    compiled = spec.method == "compiled"
    note = msg(spec.note)
    if selected == total and not refused:
        ops = grouped((op.name, "accelerator", None) for op in graph.ops)
        summary = (msg("Ready: fully compiled for {soc}: {selected} / {total} ops offloaded to "
                       "{where} in {seconds} s ({note}).", soc=soc, selected=selected,
                       total=total, where=where, seconds=figure(done.seconds, "sig"), note=note)
                   if compiled else
                   msg("Ready: {tool} takes all {total} ops for {soc} ({note}).",
                       tool=msg(spec.tool), total=total, soc=soc, note=note))
        return Readiness(str(target), spec.method, True, summary, ops, None, None, details)
    if selected == total:
        return unsure(msg("{tool} took all {total} ops yet logged refusals ({names}): its output "
                          "contradicts itself", tool=msg(spec.tool), total=total,
                          names=stay(sorted({graph.ops[i].name for i in refused}))))
    taken = (msg("partially compiled for {soc}: {selected} / {total} ops offloaded to {where}",
                 soc=soc, selected=selected, total=total, where=where)
             if compiled else
             msg("{tool} takes {selected} / {total} ops for {soc}", tool=msg(spec.tool),
                 selected=selected, total=total, soc=soc))
    if len(refused) != total - selected:
        details["refusals_logged"] = len(refused)
        summary = msg("Not ready: {taken}; the log names {named} of the {left} ops left on the "
                      "CPU, so no op placement is shown ({note}).", taken=taken,
                      named=len(refused), left=total - selected, note=note)
        return Readiness(str(target), spec.method, False, summary, (), None, None, details)
    ops = grouped((op.name, "cpu", refused[op.index]) if op.index in refused else
                  (op.name, "accelerator", None) for op in graph.ops)
    names = sorted({op.name for op in graph.ops if op.index in refused})
    return Readiness(str(target), spec.method, False,
                     msg("Not ready: {taken}; {names} on the CPU ({note}).", taken=taken,
                         names=stay(names), note=note), ops, None, None, details)
