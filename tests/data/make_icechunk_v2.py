"""Writes tests/data/icechunk-v2/: a repository in Icechunk format version 2, made by icechunk 2.x
(which needs Python >= 3.12, so it cannot run in the test environment), with the history of
tests/icechunk_fixtures.py, and beside it what icechunk's own reader reads at each ref
(``expected.npz``) and the repository's history (``history.json``).

    python3.12 -m venv /tmp/ic2 && /tmp/ic2/bin/pip install "icechunk>=2,<3" zarr numpy
    /tmp/ic2/bin/python tests/data/make_icechunk_v2.py
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import icechunk
import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from icechunk_fixtures import read_with_icechunk, write_repo, write_virtual_file  # noqa: E402

REFS = {"main": {"branch": "main"}, "tag:v1": {"tag": "v1"}, "dev": {"branch": "dev"}}


def main() -> None:
    out = HERE / "icechunk-v2"
    shutil.rmtree(out, ignore_errors=True)
    _, chunks_at = write_virtual_file(out / "icv")
    ids = write_repo(out / "repo", out / "icv", chunks_at)
    arrays = {}
    for ref, how in REFS.items():
        for name, value in read_with_icechunk(out / "repo", out / "icv", **how).items():
            arrays[f"{ref}|{name}"] = value
    np.savez_compressed(out / "expected.npz", **arrays)
    repo = icechunk.Repository.open(icechunk.local_filesystem_storage(str(out / "repo")))
    history = [{"id": s.id, "message": s.message} for s in repo.ancestry(branch="main")]
    (out / "history.json").write_text(json.dumps({"ids": ids, "main": history,
                                                  "icechunk": icechunk.__version__}, indent=1))


if __name__ == "__main__":
    main()
