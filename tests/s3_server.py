"""A real local S3-compatible server for the cloud tests: moto's server mode in a thread, with
stores written by zarr-python and uploaded object by object, and CORS open so the explorer page
(served from another origin) can read them.

Buckets: ``pub`` (public-read) holds ``plain.zarr`` (no consolidated metadata; ``hidden/deep``
is referred to by no metadata, so only a listing finds it) and ``wide.zarr`` (1100 keys at its
root before the array ``zz``: the listing needs a second page); ``priv`` (private) holds a copy
of ``plain.zarr``. (moto answers every origin's CORS requests, whatever the bucket's rules.)
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import zarr

CORS = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"],
                       "AllowedHeaders": ["*"], "ExposeHeaders": ["Content-Range", "Content-Length"]}]}
#: keys at wide.zarr's root ahead of its array (more than one 1000-key listing page)
WIDE_KEYS = 1100


def write_plain(root: Path) -> Path:
    """A v3 group without consolidated metadata: a/b, and hidden/deep that nothing refers to."""
    group = zarr.create_group(store=str(root), zarr_format=3)
    group.create_group("a").create_array("b", shape=(6,), chunks=(3,), dtype="int16")[:] = np.arange(6)
    group.create_group("hidden").create_array("deep", shape=(4,), chunks=(4,), dtype="float32")[:] = 1.5
    return root


def write_wide(root: Path) -> Path:
    group = zarr.create_group(store=str(root), zarr_format=3)
    group.create_array("zz", shape=(3,), chunks=(3,), dtype="uint8")[:] = [7, 8, 9]
    return root


def upload(client, bucket: str, folder: Path, prefix: str) -> None:
    files = [p for p in folder.rglob("*") if p.is_file()]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda p: client.put_object(Bucket=bucket, Key=f"{prefix}/{p.relative_to(folder).as_posix()}",
                                                  Body=p.read_bytes()), files))


class S3Server:
    """The running server: ``endpoint`` (http://127.0.0.1:PORT) and a boto3 ``client``."""

    def __init__(self, tmp: Path):
        import boto3
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.credentials = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
        self.client = boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                                   aws_access_key_id="testing", aws_secret_access_key="testing")
        c = self.client
        c.create_bucket(Bucket="pub")
        c.put_bucket_acl(Bucket="pub", ACL="public-read")
        c.put_bucket_cors(Bucket="pub", CORSConfiguration=CORS)
        c.create_bucket(Bucket="priv")
        plain = write_plain(tmp / "plain.zarr")
        upload(c, "pub", plain, "plain.zarr")
        upload(c, "priv", plain, "plain.zarr")
        upload(c, "pub", write_wide(tmp / "wide.zarr"), "wide.zarr")
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda i: c.put_object(Bucket="pub", Key=f"wide.zarr/junk{i:04d}", Body=b""),
                          range(WIDE_KEYS)))

    def stop(self) -> None:
        self._server.stop()


def env_for(server: S3Server) -> dict:
    """The environment of a CLI run against SERVER (plain HTTP allowed)."""
    return {**os.environ, "AWS_ENDPOINT_URL": server.endpoint, "AWS_ALLOW_HTTP": "true"}
