"""Model cards for the app: what a model is, computed once in a subprocess and cached on disk.

``describe_model(ref, data)`` runs ``python -m optimizer inspect ... --json -`` in a child
process (TensorFlow never loads in the app's process) and caches the JSON under
``paths.cache_dir("cards")``, keyed by the SHA-256 of the model file (or demo weights) and
of the data file, so an edited model gets a fresh card and an unchanged one costs nothing.
"""
from __future__ import annotations

import json
import subprocess
import sys

from optimizer import paths
from optimizer.artifacts import store
from optimizer.models.resolve import resolve_model
from optimizer.paths import file_sha256

#: A card takes seconds (TensorFlow import + one float conversion); this bounds a stuck child.
INSPECT_TIMEOUT_S = 600
#: The built-in demos' cards ship precomputed here (``<name>.card.json``), so the first page
#: load starts no TensorFlow process; ``python -m optimizer.models.demos.train`` rewrites them.
SHIPPED_CARDS = paths.ASSETS / "demos"


def shipped_card_path(name: str):
    """Where a built-in demo's precomputed card lives in the repository."""
    return SHIPPED_CARDS / f"{name}.card.json"


def shipped_card(ref: str, data: str | None = None) -> dict | None:
    """The precomputed card of a built-in demo when it matches the demo's weights (its
    ``card_key``), else None (the weights changed since: the card is computed again)."""
    if data is not None:
        return None
    doc = store.read_json(shipped_card_path(str(ref)))
    if not isinstance(doc, dict) or not isinstance(doc.get("card"), dict):
        return None
    try:
        return doc["card"] if doc.get("card_key") == card_key(ref) else None
    except ValueError:
        return None


def write_shipped_card(name: str) -> dict:
    """Compute a built-in demo's card (in a subprocess) and write it to ``assets/demos``."""
    card = describe_model(name, use_shipped=False)
    store.write_json_atomic(shipped_card_path(name), {
        "card_key": card_key(name), "card": card,
        "command": f"python -m optimizer.models.demos.train --cards-only --model {name}"})
    return card


def card_key(ref: str, data: str | None = None) -> str:
    """The cache key of a model's card: its content hash, plus the data file's if given."""
    bundle = resolve_model(ref, data)
    key = bundle.sha256
    if bundle.data:
        key += "-" + file_sha256(bundle.data)[:16]
    return key


def describe_model(ref: str, data: str | None = None, use_shipped: bool = True) -> dict:
    """The model card (see ``cli/inspect.model_card``), from the cache or a fresh subprocess.

    Blocking (seconds the first time). Raises ``ValueError`` with the inspector's one-line
    message when the model cannot be described.
    """
    from optimizer.models.uploads.prepare import PreparedUpload, is_manifest
    from optimizer.procs import child_env

    shipped = shipped_card(ref, data) if use_shipped and not is_manifest(ref) else None
    if shipped is not None:
        return shipped
    if is_manifest(ref):  # an upload's card stays in its session's folder, never shared
        path = PreparedUpload.load(ref).folder / f"card-{card_key(ref, data)}.json"
    else:
        path = paths.cache_dir("cards") / f"{card_key(ref, data)}.json"
    cached = store.read_json(path) if use_shipped else None
    if isinstance(cached, dict):
        return cached
    command = [sys.executable, "-m", "optimizer", "inspect", "--model", str(ref), "--json", "-"]
    if data:
        command += ["--data", str(data)]
    try:
        proc = subprocess.run(command, capture_output=True, text=True,
                              env=child_env(die_with_parent=True),
                              timeout=INSPECT_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ValueError(f"describing {ref} took over {INSPECT_TIMEOUT_S} s; try again on a "
                         f"quieter server") from None
    if proc.returncode != 0:
        lines = [ln for ln in proc.stderr.strip().splitlines() if ln.strip()]
        reason = next((ln for ln in reversed(lines) if ln.startswith("error:")), None)
        reason = reason[len("error:"):].strip() if reason else (
            lines[-1] if lines else f"exit status {proc.returncode}")
        raise ValueError(f"cannot describe {ref}: {reason}")
    card = json.loads(proc.stdout)
    store.write_json_atomic(path, card)
    return card
