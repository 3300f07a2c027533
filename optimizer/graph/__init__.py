"""See inside the model: Google's Model Explorer in the app, with overlays from the run (issue 23).

Light on import (no TensorFlow, no Model Explorer): the pages import it freely.

* ``ops`` -- the ops of a ``.tflite`` with Model Explorer's node ids, and each op's precision;
* ``overlays`` -- per-op values as Model Explorer's node data: int8 error, op placement on a
  target, precision, the kernel each op ran on;
* ``analyse`` -- the per-layer int8 error of a run or search, measured in a job process;
* ``sources`` -- which files a workspace may open (only its own; no paths from the browser);
* ``convert`` -- a ``.tflite`` as Model Explorer's graph JSON, by its adapter, in a child process;
* ``web`` -- Model Explorer's web app as a component folder; ``bridge.js`` feeds it;
* ``view`` -- the panes (float and a variant) and the component's arguments.
"""
from __future__ import annotations

from optimizer.lazy import lazy_getattr

_LAZY = {
    "Op": "optimizer.graph.ops",
    "read_ops": "optimizer.graph.ops",
    "precision": "optimizer.graph.ops",
    "Overlay": "optimizer.graph.overlays",
    "KINDS": "optimizer.graph.overlays",
    "TITLES": "optimizer.graph.overlays",
    "report_for": "optimizer.graph.analyse",
    "status": "optimizer.graph.analyse",
    "start_analysis": "optimizer.graph.analyse",
    "GraphRefused": "optimizer.graph.sources",
    "run_folder": "optimizer.graph.sources",
    "model_file": "optimizer.graph.sources",
    "graph_json": "optimizer.graph.convert",
    "web_dir": "optimizer.graph.web",
    "missing": "optimizer.graph.web",
    "SETUP_COMMAND": "optimizer.graph.web",
    "Pane": "optimizer.graph.view",
    "panes": "optimizer.graph.view",
    "explorer_args": "optimizer.graph.view",
    "overlay_file_name": "optimizer.graph.view",
}

__getattr__ = lazy_getattr("optimizer.graph", _LAZY, globals())

__all__ = list(_LAZY)
