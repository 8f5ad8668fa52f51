"""The display selection picks the right plane and stride, checked against numpy indexing."""

import numpy as np
import pytest

from pyzarr_web.ui.slicing import line_selection, plane_selection, stride_for
from pyzarr_web.ui.values import robust_limits, summarise, to_float


@pytest.mark.parametrize("length,max_points,expected", [(10, 10, 1), (11, 10, 2), (2048, 1024, 2), (1, 5, 1)])
def test_stride_for(length, max_points, expected):
    assert stride_for(length, max_points) == expected
    assert len(range(0, length, expected)) <= max_points


def test_plane_selection_transposes_when_rows_come_after_columns():
    data = np.arange(4 * 5 * 6).reshape(4, 5, 6)
    view = plane_selection(data.shape, y_dim=2, x_dim=0, indices={1: 3}, max_points=100)
    picked = data[view.selection]
    plane = picked.T if view.transpose else picked
    np.testing.assert_array_equal(plane, data[:, 3, :].T)
    assert view.as_text() == ":,3,:" and not view.downsampled


def test_plane_selection_strides_large_planes_and_clamps_indices():
    shape = (3, 2048, 1000)
    view = plane_selection(shape, 1, 2, {0: 99}, max_points=1024)
    assert view.selection == (2, slice(None, None, 2), slice(None, None, 1))
    assert view.downsampled and view.steps == (2, 1)
    with pytest.raises(ValueError):
        plane_selection(shape, 1, 1, {}, 10)


def test_line_selection():
    view = line_selection((7, 9), 1, {0: 4}, max_points=4)
    assert view.selection == (4, slice(None, None, 3))


def test_values_summary_and_limits():
    values = np.array([[1.0, np.nan], [3.0, 100.0]])
    s = summarise(values)
    assert (s.min, s.max, s.nan_count) == (1.0, 100.0, 1)
    assert s.mean == pytest.approx(np.nanmean(values))
    lo, hi = robust_limits(np.arange(101.0))
    assert (lo, hi) == (2.0, 98.0)
    assert robust_limits(np.full(4, 5.0)) == (5.0, 6.0)
    z = np.array([3 + 4j])
    assert to_float(z)[0] == 5.0 and to_float(z, "imaginary")[0] == 4.0
    t = np.array(["2020-01-01", "NaT"], dtype="datetime64[D]")
    assert np.isnan(to_float(t)[1])
