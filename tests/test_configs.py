"""Frozen configs: presets, validation that names the fix, and --set parsing."""
import dataclasses

import pytest

from optimizer.guide.configs import (
    ClusteringConfig,
    FinetuneConfig,
    IoType,
    PruningConfig,
    PtqConfig,
    Settings,
)
from optimizer.guide.registry import TechniqueId


def test_presets():
    assert PtqConfig.float16().technique is TechniqueId.FLOAT16
    assert not PtqConfig.dynamic_range().needs_calibration
    full = PtqConfig.full_integer()
    assert full.technique is TechniqueId.INTEGER and full.needs_calibration
    only = PtqConfig.full_integer(integer_only_io=True, io_type="uint8")
    assert only.integer_only_io and only.io_type is IoType.UINT8
    assert PtqConfig.int16x8().needs_calibration


def test_configs_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        PruningConfig().sparsity = 0.9


@pytest.mark.parametrize("build, fragment", [
    (lambda: PtqConfig(TechniqueId.QAT), "not a post-training conversion"),
    (lambda: PtqConfig.full_integer(calibration_samples=0), "100-500"),
    (lambda: PruningConfig(sparsity=1.0), "between 0 and 1"),
    (lambda: PruningConfig(schedule="cubic"), "polynomial, constant"),
    (lambda: ClusteringConfig(clusters=1), "between 2 and 256"),
    (lambda: ClusteringConfig(init="magic"), "kmeans\\+\\+"),
    (lambda: FinetuneConfig(epochs=0), "finetune.epochs"),
    (lambda: FinetuneConfig(learning_rate=5), "finetune.learning_rate"),
])
def test_invalid_values_raise_with_the_fix(build, fragment):
    with pytest.raises(ValueError, match=fragment):
        build()


def test_settings_from_pairs_and_round_trip():
    s = Settings.from_pairs(["pruning.sparsity=0.8", "clustering.clusters=8",
                             "finetune.epochs=3", "clustering.per_channel=true"])
    assert s.pruning.sparsity == 0.8 and s.clustering.clusters == 8
    assert s.clustering.per_channel is True
    assert s.finetune_for(FinetuneConfig(epochs=6, learning_rate=5e-4)) == FinetuneConfig(
        epochs=3, learning_rate=5e-4)
    assert Settings.from_dict(s.to_dict()) == s
    assert Settings().finetune_for(FinetuneConfig(epochs=6)).epochs == 6


@pytest.mark.parametrize("pair, fragment", [
    ("pruning.sparsity", "key=value"),
    ("pruning.density=0.5", "unknown setting 'pruning.density'"),
    ("finetune.epochs=2.5", "not a valid int"),
    ("clustering.per_channel=maybe", "not a valid bool"),
    ("finetune.epochs=0", "finetune.epochs"),
    ("calibration.samples=0", "100-500"),
])
def test_bad_settings(pair, fragment):
    with pytest.raises(ValueError, match=fragment):
        Settings.from_pairs([pair])
