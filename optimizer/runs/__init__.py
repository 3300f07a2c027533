"""Runs: what a run asks for (``request``), starting, reading and cancelling one in the
background (``background``, with ``processes``), the orchestrator behind
``python -m optimizer run`` (``orchestrate``) and the server-wide worker slots (``slots``).

Nothing here imports TensorFlow; the engine runs in worker processes started from here.
"""
