"""What a workspace holds, indexed: the run history (``index``) and the result cache (``cache``).

These sit above ``optimizer.runs`` and ``optimizer.search`` because they read both kinds of
folder; the SQLite schema itself is ``optimizer.artifacts.history``.
"""
