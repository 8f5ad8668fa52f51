"""The view's selection follows numpy basic indexing, in both directions of the text syntax."""

import numpy as np
import pytest

from pyzarr_web.core import SelectionError
from pyzarr_web.ui.coords import Axis, cf_decode, format_value
from pyzarr_web.ui.slicing import ViewSpec, stride_for
from pyzarr_web.ui.values import robust_limits, summarise, to_float


@pytest.mark.parametrize("length,max_points,expected", [(10, 10, 1), (11, 10, 2), (2048, 1024, 2), (1, 5, 1)])
def test_stride_for(length, max_points, expected):
    assert stride_for(length, max_points) == expected
    assert len(range(0, length, expected)) <= max_points


@pytest.mark.parametrize("text", ["2,:,:", "-1,1:4,:", "...,3", "1,...", "0,:,::2", "1,-4::3,1:6:2"])
def test_selection_text_reads_like_numpy(text):
    data = np.arange(4 * 5 * 6).reshape(4, 5, 6)
    spec = ViewSpec.from_text(text, data.shape)
    expected = data[eval(f"np.s_[{text}]")]
    np.testing.assert_array_equal(data[spec.selection()], expected)
    assert ViewSpec.from_text(spec.text(), data.shape) == spec


def test_default_view_and_round_trip():
    spec = ViewSpec.default((3, 4, 5))
    assert spec.text() == "0,:,:" and spec.displayed == (1, 2) and not spec.transposed
    moved = spec.with_index(0, 99).with_displayed((2, 0))
    assert moved.indices[0] == 2 and moved.transposed
    assert ViewSpec.from_text("2,:,:", (3, 4, 5), previous=spec.with_displayed((2, 1))).displayed == (2, 1)


@pytest.mark.parametrize("text", ["0,0,0", ":,:,:", "9,:,:", "0,3:3,:", "...,...", "a,:,:", "0,::-1,:"])
def test_bad_selection_text_is_refused(text):
    with pytest.raises(SelectionError):
        ViewSpec.from_text(text, (3, 4, 5))


def test_values_summary_and_limits():
    values = np.array([[1.0, np.nan], [3.0, 100.0]])
    s = summarise(values)
    assert (s.min, s.max, s.nan_count) == (1.0, 100.0, 1)
    assert s.mean == pytest.approx(np.nanmean(values))
    assert robust_limits(np.arange(101.0)) == (2.0, 98.0)
    assert robust_limits(np.full(4, 5.0)) == (5.0, 6.0)
    z = np.array([3 + 4j])
    assert to_float(z)[0] == 5.0 and to_float(z, "imaginary")[0] == 4.0
    t = np.array(["2020-01-01", "NaT"], dtype="datetime64[D]")
    assert np.isnan(to_float(t)[1])


def test_cf_decoding_masks_scales_and_makes_dates():
    raw = np.array([0, 10, -999], dtype="i2")
    decoded = cf_decode(raw, {"scale_factor": 0.5, "add_offset": 1.0, "_FillValue": -999})
    np.testing.assert_array_equal(decoded, [1.0, 6.0, np.nan])
    days = cf_decode(np.array([0, 31], dtype="i4"), {"units": "days since 2000-01-01"})
    assert [format_value(d) for d in days] == ["2000-01-01", "2000-02-01"]
    hours = cf_decode(np.array([1.5]), {"units": "hours since 2000-01-01 00:00:00"})
    assert format_value(hours[0]) == "2000-01-01 01:30:00"
    assert cf_decode(np.array([1, 2]), {"units": "K"}).dtype.kind == "i"


def test_axis_extent_and_description():
    lat = Axis("lat", 3, np.array([10.0, 0.0, -10.0]), "degrees_north")
    assert lat.extent(0, 3, 1) == (-15.0, 30.0, False)
    assert lat.extent(0, 3, 2) == (-15.0, 40.0, False)  # 2 samples, each 2 pitches wide
    assert lat.describe(1) == "lat = 0 degrees_north (index 1)"
    assert Axis("x", 3, np.array([0.0, 1.0, 5.0])).extent(0, 3, 1) is None  # uneven: indices
    assert Axis("i", 3).describe(2) == "i = 2"
