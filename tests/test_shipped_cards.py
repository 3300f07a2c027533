"""The demos' model cards ship precomputed (assets/demos/<name>.card.json): used while they
match the demo's weights, ignored once the weights change (then computed again)."""
from __future__ import annotations

import json

from optimizer.models import cards


def test_a_matching_shipped_card_is_used_and_a_stale_one_is_not(tmp_path, monkeypatch):
    monkeypatch.setattr(cards, "SHIPPED_CARDS", tmp_path)
    path = cards.shipped_card_path("digits-cnn")
    card = {"params": 38_000, "layers": []}
    path.write_text(json.dumps({"card_key": cards.card_key("digits-cnn"), "card": card}))
    assert cards.shipped_card("digits-cnn") == card
    assert cards.describe_model("digits-cnn") == card           # no subprocess: at once
    path.write_text(json.dumps({"card_key": "stale", "card": card}))
    assert cards.shipped_card("digits-cnn") is None
    assert cards.shipped_card("digits-cnn", data="x.npz") is None


def test_every_demo_ships_a_current_card():
    from optimizer import list_demos

    for demo in list_demos():
        assert cards.shipped_card(demo.name) is not None, (
            f"regenerate: python -m optimizer.models.demos.train --cards-only --model {demo.name}")
