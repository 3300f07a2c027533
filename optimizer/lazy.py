"""Module-level lazy names (PEP 562): a package lists ``{name: module}`` and imports on first use.

Keeps ``import optimizer`` (and ``optimizer.report``, ``optimizer.search``) cheap: nothing heavy
is imported until a name is used.
"""
from __future__ import annotations

import importlib


def lazy_getattr(package: str, table: dict, namespace: dict):
    """A ``__getattr__`` for ``package`` that imports ``table[name]`` on first use and binds the
    name in ``namespace`` (the package's ``globals()``) so later lookups are plain."""
    def __getattr__(name: str):
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module '{package}' has no attribute '{name}'")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    return __getattr__
