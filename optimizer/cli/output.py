"""Helpers shared by subcommands: writing JSON to a file or to stdout (``-``)."""
from __future__ import annotations

import json
import sys
from pathlib import Path


def write_json(data, destination: str | None) -> None:
    """Write ``data`` as JSON to ``destination`` (a path, or ``-`` for stdout)."""
    text = json.dumps(data, indent=2, default=str)
    if destination in (None, "-"):
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    else:
        path = Path(destination)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
