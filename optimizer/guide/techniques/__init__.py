"""One module per technique, each defining ``TECHNIQUE``: a ``guide.technique.TechniqueInfo``.

``optimizer.guide.registry`` finds them itself (``pkgutil``), builds ``TechniqueId`` from their
ids (in their ``order``) and checks at import that each is complete. To add a technique: write
its module here; its id is the module's name. A module here without ``TECHNIQUE`` must be named
in ``SHARED_MODULES`` (what techniques share), so a forgotten ``TECHNIQUE`` fails loudly.
"""

SHARED_MODULES = ("conversions",)
