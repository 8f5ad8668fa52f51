"""Broken metadata, run through the CLI on a directory and over HTTP (our server, Range and
all): every case ends in one clear error line naming the document and the field, exit status 1,
no traceback. Stores are written by zarr-python, then one JSON field is broken."""

from __future__ import annotations

import pytest
from badinput import META_CASES, apply, served_cases, write_base
from click.testing import CliRunner

from pyzarr_web.tools.cli import main


@pytest.fixture(scope="module")
def cases_dir(tmp_path_factory):
    with served_cases(tmp_path_factory, "meta") as served:
        yield served


def run_cli(*args) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stderr, result.exception


def source_of(case_id: str, where: str, cases_dir) -> str:
    root, url = cases_dir
    return str(root / case_id) if where == "dir" else f"{url}/{case_id}"


def build(case, cases_dir, base_cache):
    root, _ = cases_dir
    path = root / case.id
    if not path.exists():
        write_base(case.base, path, base_cache)
        apply(case, path)
    return path


@pytest.mark.parametrize("where", ["dir", "http"])
@pytest.mark.parametrize("case", META_CASES, ids=lambda c: c.id)
def test_broken_metadata_is_one_clear_error(case, where, cases_dir, base_cache):
    build(case, cases_dir, base_cache)
    source = source_of(case.id, where, cases_dir)
    code, err, exc = run_cli("tree", source)
    assert code == 1 and isinstance(exc, SystemExit), (err, exc)
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    # the document: its URL or path, or its entry inside the consolidated document
    assert f"{source}/{case.document}" in err, err
    for text in case.expect:
        assert text in err, err
