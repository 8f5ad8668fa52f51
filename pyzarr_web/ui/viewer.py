"""What the explorer shows, as parameters: the one source of truth for the page, the URL and the API.

Widgets write these parameters and the explorer derives every view from them; ``urlstate`` turns
them into the query string and back. Nothing here reads data or knows about widgets.
"""

from __future__ import annotations

import param

from pyzarr_web.ui.plots import COLORMAPS
from pyzarr_web.ui.values import COMPLEX_PARTS

TABS = ("data", "table", "info")


class Viewer(param.Parameterized):
    store = param.String(default="", doc="URL of the store's root ('' shows nothing).")
    ref = param.String(default="", doc="Version of a versioned (Icechunk) store: 'main', 'tag:v1', "
                                       "'snapshot:ID'; '' its default branch.")
    path = param.String(default=None, allow_None=True,
                        doc="Selected node ('' is the root); None until a store is open.")
    selection = param.String(default=None, allow_None=True,
                             doc="What part of the selected array is shown, as ?select= text "
                                 "(numpy basic indexing); None: the default view of the array.")
    displayed = param.List(default=None, allow_None=True, item_type=int,
                           doc="Array dimensions drawn as (rows, columns) of the image, or (x,) of a line; "
                               "None: the last ones. Order matters: (2, 1) is the transposed plane.")
    level = param.String(default="auto", doc="Pyramid level shown: 'auto' (the coarsest level as sharp as "
                                             "the screen) or a level array's path.")
    viewport = param.NumericTuple(default=None, allow_None=True, length=4,
                                  doc="Part of a pyramid or huge image shown, (x0, x1, y0, y1) in full-resolution "
                                      "samples (ends exclusive); None: the whole image, or a huge single "
                                      "array's first screenful.")
    composite = param.Boolean(default=True, doc="Show a multichannel image's channels (OME omero) as one "
                                                "additive colour composite; False: one channel, colormapped.")
    channels = param.List(default=None, allow_None=True,
                          doc="The user's edits of each channel's style ({label, color, window, active}); "
                              "None: as the metadata gives them.")
    labels = param.String(default="", doc="Name of the OME label image overlaid on the image ('' none).")
    colormap = param.Selector(default="viridis", objects=list(COLORMAPS))
    auto_contrast = param.Boolean(default=True, doc="Contrast from robust percentiles of each new slice.")
    clim = param.NumericTuple(default=None, allow_None=True, length=2,
                              doc="Contrast limits (low, high); with auto contrast, the ones computed last.")
    log_scale = param.Boolean(default=False)
    complex_part = param.Selector(default=COMPLEX_PARTS[0], objects=list(COMPLEX_PARTS),
                                  doc="How complex values become numbers to draw.")
    tab = param.Selector(default="data", objects=list(TABS), doc="The view shown for the selected node.")
