"""Dataset: what kind of data the user has decides the tree's first data question."""
import numpy as np
import pytest

from optimizer.guide.registry import DataNeed
from optimizer.models.dataset import Dataset


def _x(n):
    return np.random.default_rng(0).random((n, 4), dtype=np.float32)


def test_kind_follows_what_is_there():
    labelled = Dataset("a", x_test=_x(5), y_test=np.zeros(5), x_train=_x(8), y_train=np.zeros(8))
    unlabelled = Dataset("b", x_test=_x(5), x_rep=_x(150))
    nothing = Dataset("c", x_test=_x(5))
    assert labelled.kind is DataNeed.LABELLED and labelled.labelled
    assert unlabelled.kind is DataNeed.REPRESENTATIVE and not unlabelled.labelled
    assert nothing.kind is DataNeed.NONE


def test_representative_prefers_x_rep_and_is_float32():
    ds = Dataset("a", x_test=_x(5), x_train=_x(300).astype(np.float64), x_rep=_x(120))
    rep = ds.representative(100)
    assert rep.shape == (100, 4) and rep.dtype == np.float32
    np.testing.assert_array_equal(rep, ds.x_rep[:100])
    assert Dataset("b", x_test=_x(5), x_train=_x(50)).representative(100).shape == (50, 4)


def test_no_representative_samples_names_the_fix():
    with pytest.raises(ValueError, match="100-500 unlabelled"):
        Dataset("a", x_test=_x(5)).representative()


def test_npz_round_trip_without_pickle(tmp_path):
    ds = Dataset("a", x_test=_x(5), y_test=np.arange(5), x_rep=_x(7))
    ds.save_npz(tmp_path / "d.npz")
    with np.load(tmp_path / "d.npz", allow_pickle=False) as z:
        assert sorted(z.files) == ["x_rep", "x_test", "y_test"]
        np.testing.assert_array_equal(z["y_test"], np.arange(5))
    assert ds.sizes() == {"train": 0, "representative": 7, "test": 5}
