"""Local data in the browser with no server: a folder or a zip picked with the page's file inputs
(Playwright's set_input_files, as a user's file dialog), read lazily in the worker, a slice at a
time. Stores written by zarr-python; values checked against numpy; bytes read counted."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import zarr

pytestmark = pytest.mark.browser


def write_store(path, big: bool = False):
    root = zarr.open_group(str(path), mode="w", zarr_format=3)
    data = np.arange(60 * 80, dtype="f4").reshape(60, 80)
    root.create_array("grp/small", shape=data.shape, chunks=(30, 40), dtype="f4")[:] = data
    if big:  # 1 GiB of stored, uncompressed chunks that no view may read whole
        arr = root.create_array("grp/big", shape=(16384, 16384), chunks=(1024, 1024), dtype="f4", compressors=None)
        band = np.ones((1024, 16384), "f4")
        for i in range(16):
            arr[i * 1024:(i + 1) * 1024] = band
    zarr.consolidate_metadata(str(path))
    return data


@pytest.fixture
def local_page(browser, http_server):
    from conftest import booted_explorer

    with booted_explorer(browser, http_server) as page:
        yield page


def test_a_picked_folder_opens_without_a_server(local_page, tmp_path):
    local_page.get_by_text("nothing is uploaded").first.wait_for()  # the empty page says how
    data = write_store(tmp_path / "mine.zarr")
    local_page.locator("input.pick-folder").set_input_files(str(tmp_path / "mine.zarr"))
    local_page.wait_for_function("() => (window.zarrExplorer.state().store || '').startsWith('picked://')")
    state = local_page.evaluate(
        "() => window.zarrExplorer.whenIdle().then(() => window.zarrExplorer.select('grp/small'))")
    assert (state["status"], state["error"], state["shape"]) == ("idle", None, [60, 80])
    assert state["store"].endswith("/mine.zarr")
    assert state["view"]["max"] == data.max() and state["view"]["mean"] == pytest.approx(data.mean())


def test_a_picked_zip_reads_only_what_the_view_needs(local_page, tmp_path):
    data = write_store(tmp_path / "zipped.zarr", big=True)
    archive = tmp_path / "zipped.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as z:
        for f in sorted((tmp_path / "zipped.zarr").rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(tmp_path).as_posix())
    assert archive.stat().st_size > 2**30
    local_page.locator("input.pick-file").set_input_files(str(archive))
    local_page.wait_for_function("() => (window.zarrExplorer.state().store || '').endsWith('/zipped.zip')")
    state = local_page.evaluate(
        "() => window.zarrExplorer.whenIdle().then(() => window.zarrExplorer.select('grp/small'))")
    assert (state["status"], state["error"], state["view"]["max"]) == ("idle", None, data.max())
    read = local_page.evaluate("() => window.zarrExplorer.timings.picked_bytes")
    assert 0 < read < 5 * 2**20, read  # the central directory, metadata and one small array's chunks
    state = local_page.evaluate("() => window.zarrExplorer.select('grp/big')")  # its first screenful only
    assert (state["status"], state["view"]["max"]) == ("idle", 1)
    read = local_page.evaluate("() => window.zarrExplorer.timings.picked_bytes")
    assert read < 5 * 2**20 + 4 * 2**22, read  # + the 2×2 chunks (4 MiB each) in view


def test_a_zip_dropped_on_the_page_opens(local_page, tmp_path):
    """A drop event carrying a .zip (built in the page from the archive's bytes: Playwright cannot
    drag files from the desktop, so the drop carries files and no folder entries)."""
    data = write_store(tmp_path / "dropped.zarr")
    archive = tmp_path / "dropped.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for f in sorted((tmp_path / "dropped.zarr").rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(tmp_path / "dropped.zarr").as_posix())
    drop = local_page.evaluate_handle("""bytes => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(bytes)], "dropped.zip", {type: "application/zip"}));
        return dt }""", list(archive.read_bytes()))
    local_page.dispatch_event("body", "drop", {"dataTransfer": drop})
    local_page.wait_for_function("() => (window.zarrExplorer.state().store || '').endsWith('/dropped.zip')")
    state = local_page.evaluate(
        "() => window.zarrExplorer.whenIdle().then(() => window.zarrExplorer.select('grp/small'))")
    assert (state["status"], state["error"], state["shape"]) == ("idle", None, [60, 80])
    assert state["view"]["max"] == data.max() and state["view"]["mean"] == pytest.approx(data.mean())
