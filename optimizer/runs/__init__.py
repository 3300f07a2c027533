"""Runs: start, read and cancel a run (``launch``), the orchestrator behind
``python -m optimizer run`` (``orchestrate``) and the server-wide worker slots (``slots``).

Nothing here imports TensorFlow; the engine runs in worker processes started from here.
"""
