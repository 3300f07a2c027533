"""One module per kind of retraining stage, each defining ``STAGE``: a ``guide.stage.StageHandler``.

``optimizer.guide.stage_handlers`` collects them into ``STAGES`` and checks at import that every
``StageKind`` has exactly one handler, so a forgotten piece fails loudly.
"""
