"""The one codec between the query string and the Viewer: both ways, defaults left out, unreadable
values dropped."""

from pyzarr_web.ui import urlstate
from pyzarr_web.ui.viewer import Viewer


def test_a_view_survives_the_round_trip_through_its_url():
    viewer = Viewer(store="https://example.org/a b.zarr", ref="tag:v1", path="grp/cube", selection="3,:,2:70:4",
                    colormap="magma", auto_contrast=False, clim=(-1.5, 2.0), log_scale=True, tab="info",
                    level="grp/cube/2", viewport=(1048000.25, 1048576, 0, 512.5), labels="cells", composite=False)
    query = urlstate.encode(viewer)
    assert "select=3,:,2:70:4" in query and "clim=-1.5,2" in query and "tab=info" in query
    assert "level=grp/cube/2" in query and "view=1048000.25,1048576,0,512.5" in query  # no digits lost
    decoded = urlstate.decode("?" + query)
    assert "ref=tag:v1" in query
    assert decoded == {"store": viewer.store, "ref": "tag:v1", "path": "grp/cube", "selection": "3,:,2:70:4",
                       "colormap": "magma", "auto_contrast": False, "clim": (-1.5, 2.0),
                       "log_scale": True, "tab": "info", "level": "grp/cube/2",
                       "viewport": (1048000.25, 1048576, 0, 512.5), "labels": "cells", "composite": False}


def test_defaults_are_left_out_and_bad_values_fall_back():
    assert urlstate.encode(Viewer(store="s.zarr")) == "store=s.zarr"
    assert urlstate.encode(Viewer()) == ""
    decoded = urlstate.decode("?store=s.zarr&cmap=nope&clim=3,1&tab=<b>&log=maybe")
    assert (decoded["colormap"], decoded["clim"], decoded["auto_contrast"]) == ("viridis", None, True)
    assert (decoded["tab"], decoded["log_scale"]) == ("data", False)
    assert urlstate.decode("?store=s.zarr&clim=oops")["clim"] is None
    assert urlstate.decode("?store=s.zarr&view=5,1,0,3")["viewport"] is None  # empty: the whole image
    assert urlstate.decode("?store=s.zarr&view=1,2,3")["viewport"] is None
