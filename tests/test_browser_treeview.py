"""TreeView in real Chromium, served by a real Bokeh server (``pn.serve`` on loopback, threaded):
expand and collapse, lazy children, keyboard navigation, the filter, selection both ways and kept
in view, hostile names shown as text. The product runs the same JS in the page with Panel in a
Pyodide worker; test_browser_explorer.py covers that path."""

from __future__ import annotations

import asyncio
import socket
import time
from concurrent.futures import ThreadPoolExecutor

import panel as pn
import pytest
import zarr
from conftest import open_page

from pyzarr_web.core import Hierarchy, open_store
from pyzarr_web.ui.tree import TreeModel
from pyzarr_web.ui.treeview import TreeView

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=window.__pwned=1>"
BIG = 450  # members of "many": more than one page (200) of rows


@pytest.fixture(scope="module")
def store_rows(tmp_path_factory):
    """Rows of a store written by zarr-python and walked by our core, plus a lazy group."""
    path = tmp_path_factory.mktemp("tree") / "tree.zarr"
    root = zarr.open_group(path, mode="w", zarr_format=3)
    image = root.create_group("image")
    image.attrs["multiscales"] = [{"version": "0.4", "datasets": [{"path": "0"}]}]
    image.create_array("0", shape=(3, 64, 48), chunks=(1, 32, 32), dtype="u2")
    root.create_group("<b>bold").create_array(HOSTILE, shape=(5,), dtype="i1")
    many = root.create_group("many")
    for i in range(BIG):
        many.create_array(f"v{i:03d}", shape=(2, i + 1), dtype="f4")
    zarr.consolidate_metadata(path)

    async def walk():
        return TreeModel(await (await Hierarchy.open(open_store(str(path)))).walk())

    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs in this thread
        rows = pool.submit(asyncio.run, walk()).result().rows()
    rows.append({"path": "lazy", "name": "lazy", "kind": "group", "shape": None, "dtype": None,
                 "count": None, "multiscale": None})
    return rows


class Host:
    """The Python side of one browser session: the tree, its document, what the host saw."""

    def __init__(self, rows):
        self.rows = rows
        self.tree: TreeView | None = None
        self.doc = None
        self.seen: list[tuple[str, object]] = []

    def app(self):
        self.tree = TreeView(nodes=list(self.rows), height=420, sizing_mode="stretch_width")
        self.doc = pn.state.curdoc
        self.tree.param.watch(lambda e: self.seen.append(("selected", e.new)), "selected")
        self.tree.param.watch(self._expanded, "expanded")
        return pn.Column(self.tree, sizing_mode="stretch_width", max_width=340)

    def _expanded(self, event):
        """Answer the expansion of the lazy group by supplying its children, as a host would."""
        self.seen.append(("expanded", event.new))
        if "lazy" in event.new and not any(r["path"].startswith("lazy/") for r in self.tree.nodes):
            kids = [{"path": f"lazy/k{i}", "name": f"k{i}", "kind": "array", "shape": [i + 1],
                     "dtype": "uint8", "count": None, "multiscale": None} for i in range(3)]
            # answer later, as a host reading metadata over the network would
            self.doc.add_timeout_callback(lambda: setattr(self.tree, "nodes", [*self.tree.nodes, *kids]), 300)

    def run(self, fn):
        """Run FN on the server's document thread (Bokeh documents are not thread-safe)."""
        self.doc.add_next_tick_callback(fn)


def wait_until(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


@pytest.fixture
def served(browser, store_rows):
    host = Host(store_rows)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = pn.serve(host.app, port=port, address="127.0.0.1", threaded=True, show=False)
    origin = f"http://127.0.0.1:{port}"
    page = open_page(browser, origin)
    page.set_default_timeout(15_000)
    page.set_viewport_size({"width": 1024, "height": 700})
    page.goto(origin + "/")
    page.wait_for_selector("[role=treeitem]")
    yield host, page
    page.context.close()
    server.stop()


def visible(page) -> list[dict]:
    """The drawn rows (Playwright's CSS engine reaches into the component's shadow root)."""
    return page.locator(".tv-row").evaluate_all("""els => els.map(e => ({
        path: e.dataset.path, text: e.textContent, role: e.getAttribute('role'),
        level: e.getAttribute('aria-level'), expanded: e.getAttribute('aria-expanded'),
        selected: e.getAttribute('aria-selected'), tabindex: e.tabIndex,
        name: e.querySelector('.tv-name')?.textContent, loading: e.classList.contains('tv-loading')}))""")


def paths(page) -> list[str]:
    return [r["path"] for r in visible(page) if r["role"] == "treeitem" and "more" not in r["text"]]


def row(page, path):
    return page.locator(f".tv-row[role=treeitem][data-path='{path}']")


def focused_path(page):
    return page.evaluate("""() => { let a = document.activeElement
        while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement
        return a && a.dataset ? a.dataset.path ?? null : null }""")


def test_expand_collapse_lazy_children_and_hostile_names(served):
    host, page = served
    assert paths(page) == ["", "<b>bold", "image", "many", "lazy"]
    rows = {r["path"]: r for r in visible(page)}
    assert rows[""]["expanded"] == "true" and rows["many"]["expanded"] == "false"
    assert rows["many"]["text"].endswith(f"{BIG} members") and rows["image"]["level"] == "2"
    assert page.locator(".tv-row[data-path='image'] .tv-icon-image").count() == 1

    row(page, "<b>bold").locator(".tv-twisty").click()  # the twisty expands without selecting
    wait_until(lambda: "<b>bold" in host.tree.expanded)
    page.wait_for_selector(".tv-row[data-path='<b>bold/<img src=x onerror=window.__pwned=1>']")
    names = [r["name"] for r in visible(page)]
    assert "<b>bold" in names and HOSTILE in names  # shown as the text they are
    assert page.locator(".tv img, .tv b").count() == 0
    assert page.evaluate("window.__pwned") is None
    assert host.tree.selected is None
    assert [r["text"] for r in visible(page) if r["path"] == f"<b>bold/{HOSTILE}"] == [f"{HOSTILE}5 int8"]

    row(page, "<b>bold").locator(".tv-twisty").click()  # and collapses
    wait_until(lambda: "<b>bold" not in host.tree.expanded)
    assert row(page, f"<b>bold/{HOSTILE}").count() == 0

    row(page, "lazy").locator(".tv-twisty").click()  # lazy: loading… until the host answers
    page.wait_for_selector(".tv-loading[data-path='lazy']")
    assert [r["text"] for r in visible(page) if r["loading"]] == ["loading…"]
    page.wait_for_selector(".tv-row[data-path='lazy/k2']")
    assert page.locator(".tv-loading").count() == 0
    assert paths(page)[paths(page).index("lazy"):] == ["lazy", "lazy/k0", "lazy/k1", "lazy/k2"]

    row(page, "many").click()  # selecting a group opens it; a page of rows, then "… N more"
    wait_until(lambda: host.tree.selected == "many")
    assert host.seen.count(("selected", "many")) == 1
    more = page.locator(".tv-more")
    assert more.text_content() == f"… {BIG - 200} more"
    assert len([p for p in paths(page) if p.startswith("many/")]) == 200
    more.click()
    page.wait_for_selector(".tv-row[data-path='many/v399']")
    assert more.text_content() == f"… {BIG - 400} more"

    list_box = page.locator(".tv-list").evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert list_box[0] <= list_box[1]  # nothing wider than the 340 px sidebar


def test_keyboard_navigation(served):
    host, page = served
    row(page, "").click()
    wait_until(lambda: host.tree.selected == "")
    assert focused_path(page) == ""
    page.keyboard.press("ArrowDown")
    assert focused_path(page) == "<b>bold"
    page.keyboard.press("ArrowRight")  # expands
    expect_attr(page, "<b>bold", "aria-expanded", "true")
    wait_until(lambda: "<b>bold" in host.tree.expanded)
    page.keyboard.press("ArrowRight")  # to the first child
    assert focused_path(page) == f"<b>bold/{HOSTILE}"
    page.keyboard.press("ArrowLeft")  # to the parent
    assert focused_path(page) == "<b>bold"
    page.keyboard.press("ArrowLeft")  # collapses
    expect_attr(page, "<b>bold", "aria-expanded", "false")
    page.keyboard.press("ArrowLeft")  # to the parent (the root)
    assert focused_path(page) == ""
    page.keyboard.press("End")
    assert focused_path(page) == "lazy"
    page.keyboard.press("ArrowUp")
    assert focused_path(page) == "many"
    page.keyboard.press("Home")
    assert focused_path(page) == ""
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")  # selects "image"
    wait_until(lambda: host.tree.selected == "image")
    expect_attr(page, "image", "aria-selected", "true")
    expect_attr(page, "", "aria-selected", "false")
    page.keyboard.press("ArrowDown")  # image was opened by selecting it: its level 0
    assert focused_path(page) == "image/0"
    page.keyboard.press(" ")
    wait_until(lambda: host.tree.selected == "image/0")
    tabbable = [r["path"] for r in visible(page) if r["tabindex"] == 0]
    assert tabbable == ["image/0"]  # one tab stop: the tree is one widget
    assert page.locator("[role=tree]").count() == 1


def expect_attr(page, path, name, value):
    """Python's change reaches the page through the server's websocket: on a loaded machine that
    can take longer than Playwright's default 5 s."""
    from playwright.sync_api import expect

    expect(row(page, path)).to_have_attribute(name, value, timeout=30_000)


def test_filter_shows_matches_with_their_ancestors(served):
    host, page = served
    page.locator(".tv-filter").fill("V44")
    wait_until(lambda: host.tree.filter == "V44")
    wait_for_paths(page, ["", "many", *(f"many/v{i}" for i in range(440, 450))])
    page.locator(".tv-filter").fill("img src")
    wait_for_paths(page, ["", "<b>bold", f"<b>bold/{HOSTILE}"])
    page.locator(".tv-filter").fill("no such name")
    wait_for_paths(page, [])
    assert "No names match" in page.locator(".tv-list").text_content()
    host.run(lambda: setattr(host.tree, "filter", ""))  # the host clears it
    wait_for_paths(page, ["", "<b>bold", "image", "many", "lazy"])
    assert page.locator(".tv-filter").input_value() == ""


def wait_for_paths(page, expected, timeout=10.0):
    end = time.monotonic() + timeout
    while paths(page) != expected:
        if time.monotonic() > end:
            assert paths(page) == expected
        time.sleep(0.05)


def test_selection_from_python_opens_ancestors_and_scrolls_into_view(served):
    host, page = served
    host.seen.clear()
    host.run(lambda: setattr(host.tree, "selected", "many/v321"))  # beyond the first page
    target = row(page, "many/v321")
    expect_attr(page, "many/v321", "aria-selected", "true")
    assert host.tree.expanded == ["", "many"]
    listed = page.locator(".tv-list").bounding_box()
    box = target.bounding_box()
    assert listed["y"] <= box["y"] and box["y"] + box["height"] <= listed["y"] + listed["height"] + 1
    time.sleep(0.5)  # an echo from the page would arrive by now
    assert [s for s in host.seen if s[0] == "selected"] == [("selected", "many/v321")]

    host.run(lambda: setattr(host.tree, "selected", "image/0"))  # and back up
    expect_attr(page, "image/0", "aria-selected", "true")
    box, listed = row(page, "image/0").bounding_box(), page.locator(".tv-list").bounding_box()
    assert listed["y"] <= box["y"] and box["y"] + box["height"] <= listed["y"] + listed["height"] + 1
    assert page.locator("[aria-selected=true]").count() == 1
    assert not page.console_errors and not page.external_requests
