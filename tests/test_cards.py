"""Model cards: ``inspect --json`` in a subprocess, cached on disk by content hash."""
from __future__ import annotations

import subprocess

import pytest

from optimizer import paths
from optimizer.models import cards


@pytest.fixture(scope="module")
def tiny_files(tmp_path_factory, tiny_model, tiny_dataset):
    folder = tmp_path_factory.mktemp("card-files")
    tiny_model.save(folder / "tiny.h5")
    tiny_dataset.save_npz(folder / "tiny.npz")
    return str(folder / "tiny.h5"), str(folder / "tiny.npz")


@pytest.mark.slow
def test_card_describes_the_model_and_is_cached(tiny_files, tiny_model, monkeypatch):
    model, data = tiny_files
    card = cards.describe_model(model, data)
    assert card["name"] == "tiny" and card["params"] == tiny_model.count_params()
    assert 0 < card["trainable_params"] <= card["params"]
    assert [layer["name"] for layer in card["layers"]] == [layer.name for layer in tiny_model.layers]
    assert {"name", "type", "output_shape", "params"} <= set(card["layers"][0])
    assert card["layers"][0]["type"] == "Conv2D"
    assert card["input_shape"] == [8, 8, 1] and card["output_shape"] == [10]
    assert card["float32_tflite_bytes"] > 4 * card["params"] * 0.9  # float32 weights
    assert "CONV_2D" in card["ops"] and "FULLY_CONNECTED" in card["ops"]
    assert card["data"] == {"train": 1347, "representative": 200, "test": 450}
    assert card["task"] == "classification" and card["num_classes"] == 10
    cached = list(paths.cache_dir("cards").glob("*.json"))
    assert any(p.name.startswith(card["sha256"]) for p in cached)

    def no_subprocess(*args, **kwargs):
        raise AssertionError("a cached card must not start a subprocess")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    assert cards.describe_model(model, data) == card


def test_unreadable_model_gives_a_one_line_error(tmp_path, tiny_dataset):
    (tmp_path / "fake.h5").write_text("not a model")
    tiny_dataset.save_npz(tmp_path / "d.npz")
    with pytest.raises(ValueError) as info:
        cards.describe_model(str(tmp_path / "fake.h5"), str(tmp_path / "d.npz"))
    assert str(info.value).startswith("cannot describe") and "\n" not in str(info.value)
    assert "Traceback" not in str(info.value)
