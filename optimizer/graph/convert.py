"""A ``.tflite`` as Model Explorer's graph JSON, converted by Model Explorer's own adapter.

The adapter (``ai_edge_model_explorer_adapter``, a ~500 MB native library) parses the
flatbuffer in C++. A file may come from an upload, so the conversion runs in a child process
(``python -m optimizer.graph.convert FILE``) with a time limit: a file that crashes or hangs
the parser costs that child, never the app. The JSON is cached by the file's SHA-256 under
``<workspace>/cache/graphs/`` (the same bytes always give the same graph), so a page shows a
graph at once the second time.

The result is what Model Explorer's ``load_graphs_json`` answers: ``{"graphs": [..]}``, the
subgraphs of the file; subgraph 0 is the main graph whose op nodes have the ids
``graph.ops.read_ops`` gives.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from optimizer import paths
from optimizer.procs import child_env

ADAPTER = "ai_edge_model_explorer_adapter"
TIMEOUT_S = 120
#: The most graph JSON a conversion may return (a large model's graph is a few MB).
MAX_JSON_BYTES = 64 << 20


def graph_json(tflite: Path | str) -> dict:
    """The graph JSON of ``tflite`` (converted once, then read from the cache).

    ``ValueError`` with a one-line cause when the adapter is not installed (naming
    ``make setup-graph``), the file cannot be converted, or the conversion takes too long.
    """
    from optimizer.graph.web import SETUP_COMMAND

    tflite = Path(tflite)
    cached = paths.cache_dir("graphs") / f"{paths.file_sha256(tflite)}.json"
    if cached.is_file():
        try:
            return json.loads(cached.read_text())
        except (OSError, ValueError):
            cached.unlink(missing_ok=True)
    command = [sys.executable, "-m", "optimizer.graph.convert", str(tflite)]
    try:
        done = subprocess.run(command, capture_output=True, timeout=TIMEOUT_S, env=child_env(),
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ValueError(f"drawing the graph took more than {TIMEOUT_S} s and was stopped; "
                         "the model may be too large to draw here") from None
    if done.returncode == 3:
        raise ValueError(f"the graph view needs Model Explorer's adapter, which is not "
                         f"installed on this server; run `{SETUP_COMMAND}`")
    if done.returncode != 0 or len(done.stdout) > MAX_JSON_BYTES:
        lines = [line for line in done.stderr.decode(errors="replace").splitlines() if line]
        why = lines[-1][:200] if lines else f"exit status {done.returncode}"
        if len(done.stdout) > MAX_JSON_BYTES:
            why = f"its graph is larger than {MAX_JSON_BYTES >> 20} MB"
        raise ValueError(f"Model Explorer could not draw this file: {why}")
    graph = json.loads(done.stdout)
    tmp = cached.with_suffix(".tmp")
    tmp.write_bytes(done.stdout)
    tmp.replace(cached)
    return graph


def _convert(path: str) -> dict:
    import ai_edge_model_explorer_adapter as adapter

    collections = json.loads(adapter.ConvertFlatbufferDirectlyToJson(adapter.VisualizeConfig(),
                                                                      path))
    if not collections or not collections[0].get("subgraphs"):
        raise ValueError("the adapter found no graph in the file")
    return {"graphs": collections[0]["subgraphs"]}


def main(argv=None) -> int:
    """``python -m optimizer.graph.convert FILE``: the graph JSON on stdout; exit 3 when the
    adapter is missing, 2 when the file cannot be converted."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m optimizer.graph.convert FILE.tflite", file=sys.stderr)
        return 2
    try:
        graph = _convert(args[0])
    except ModuleNotFoundError as exc:
        if exc.name == ADAPTER:
            print(f"{ADAPTER} is not installed", file=sys.stderr)
            return 3
        raise
    except (RuntimeError, ValueError, OSError) as exc:
        print((str(exc).strip().splitlines() or [type(exc).__name__])[0], file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(graph, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
