"""One module per technique, each defining ``TECHNIQUE``: a ``guide.technique.TechniqueInfo``.

``optimizer.guide.registry`` lists them (one row each) and checks at import that every
``TechniqueId`` has exactly one complete technique. To add a technique: write its module here,
add its id to ``guide.ids.TechniqueId`` and its row to the registry.
"""
