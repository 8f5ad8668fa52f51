"""A store read through obstore (the Rust object_store bindings, ``pip install 'pyzarr-web[cloud]'``):
signed requests to S3, GCS and Azure with the usual environment credentials, for buckets that
are not public. CPython only; the browser and anonymous reads use :class:`.http.HttpStore`.

obstore reads the standard variables itself (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_SESSION_TOKEN``, ``AWS_ENDPOINT_URL``, ``GOOGLE_SERVICE_ACCOUNT``, ``AZURE_STORAGE_*``...);
the options given here (``--endpoint``, ``--region``) win over them.
"""

from __future__ import annotations

from ..errors import StoreError
from ..store import ByteRequest, RangeRequest, Store, SuffixRequest, key_segments
from .cloud import CloudUrl, split_cloud_url


def _make(cloud: CloudUrl, allow_http: bool):
    from obstore.store import AzureStore, GCSStore, S3Store

    prefix = cloud.key.strip("/") or None
    client = {"allow_http": True} if allow_http else None
    if cloud.api == "s3":
        options = {k: v for k, v in (("endpoint", cloud.endpoint), ("region", cloud.region)) if v}
        return S3Store(cloud.bucket, prefix=prefix, client_options=client, **options)
    if cloud.api == "gcs":
        return GCSStore(cloud.bucket, prefix=prefix, client_options=client)
    return AzureStore(cloud.bucket, prefix=prefix, account_name=cloud.account, client_options=client)


class ObjectStore(Store):
    """The store at cloud URL ``url`` (``s3://``, ``gs://``, ``az://``) through obstore."""

    can_list = True

    def __init__(self, url: str, *, region: str | None = None, endpoint: str | None = None,
                 account: str | None = None, allow_http: bool = False):
        self.url = url.split("?", 1)[0].rstrip("/")
        self._store = _make(split_cloud_url(url, region=region, endpoint=endpoint, account=account), allow_http)

    def _fail(self, key: str, error: Exception) -> StoreError:
        return StoreError(f"{self.url}/{key}: {type(error).__name__}: {error}")

    async def get(self, key: str, byte_range: ByteRequest = None) -> bytes | None:
        import obstore

        key_segments(key, self.url)
        try:
            if isinstance(byte_range, RangeRequest):
                if byte_range.length <= 0:
                    return b""
                options = {"range": (byte_range.offset, byte_range.offset + byte_range.length)}
            elif isinstance(byte_range, SuffixRequest):
                options = {"range": {"suffix": byte_range.length}}
            else:
                options = None
            result = await obstore.get_async(self._store, key, options=options)
            return bytes(await result.bytes_async())
        except FileNotFoundError:
            return None
        except Exception as e:  # obstore's errors: credentials, network, range past the end
            raise self._fail(key, e) from e

    async def list_dir(self, prefix: str) -> tuple[list[str], list[str]]:
        import obstore

        try:
            found = await obstore.list_with_delimiter_async(self._store, prefix or None)
        except Exception as e:
            raise self._fail(prefix, e) from e
        keys = [o["path"][len(prefix):] for o in found["objects"]]
        dirs = [p[len(prefix):].rstrip("/") for p in found["common_prefixes"]]
        return sorted(k for k in keys if k), sorted(d for d in dirs if d)

    async def sizes(self, prefix: str) -> dict[str, int]:
        import obstore

        out: dict[str, int] = {}
        try:
            async for batch in obstore.list(self._store, prefix or None, chunk_size=1000):
                out.update((o["path"], o["size"]) for o in batch)
        except Exception as e:
            raise self._fail(prefix, e) from e
        return out

    def describe(self) -> str:
        return self.url
