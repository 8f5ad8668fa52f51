"""Object-store URLs (``s3://``, ``gs://``, ``az://``, ``abfs://`` and the HTTPS URLs of buckets)
as the public HTTPS URLs a browser can fetch, and where the bucket's listing API answers.

Only anonymous, public access: a bucket that needs credentials answers 401/403, which the HTTP
store reports naming the URL and saying so. Options of a cloud URL may follow it as a query
(``s3://b/x.zarr?region=eu-west-1&endpoint=http://127.0.0.1:9000``) or be given by the caller
(the CLI's ``--endpoint``/``--region``, the page's ``&endpoint=``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from ..errors import StoreError

#: options a cloud URL may carry in its query
CLOUD_OPTIONS = ("region", "endpoint", "account")
DEFAULT_REGION = "us-east-1"
_SCHEMES = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure",
            "abfss": "azure"}
#: a bucket name usable as a host name in a TLS certificate (no dots) -> virtual-host style
_VIRTUAL_HOST_OK = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")
_S3_VIRTUAL = re.compile(r"^(?P<bucket>.+)\.s3(?:[.-](?P<region>[a-z0-9-]+))?\.amazonaws\.com$")
_S3_PATH = re.compile(r"^s3(?:[.-](?P<region>[a-z0-9-]+))?\.amazonaws\.com$")
_AZURE = re.compile(r"^(?P<account>[a-z0-9]+)\.(?:blob|dfs)\.core\.windows\.net$")


@dataclass(frozen=True)
class Bucket:
    """Where a store lives in a bucket: the listing ``api`` ("s3", "gcs", "azure"), the URL
    its listing requests go to (``list_url``, without query) and the store's key ``prefix``
    in the bucket ("" or ending in "/")."""

    api: str
    list_url: str
    prefix: str


@dataclass(frozen=True)
class Location:
    """A source's HTTP(S) URL, and its bucket when it is in one (None: a plain web server)."""

    url: str
    bucket: Bucket | None = None


def is_cloud_url(url: str) -> bool:
    return urlsplit(url).scheme.lower() in _SCHEMES


def public_https_url(url: str) -> str:
    """The public HTTPS endpoint of a cloud URL (see :func:`locate`); any other URL is
    returned unchanged."""
    return locate(url).url if is_cloud_url(url) else url


def with_endpoint(url: str, endpoint: str | None) -> str:
    """A cloud URL carrying a custom ENDPOINT in its query (the page's ``&endpoint=``); other
    URLs, and a URL naming its endpoint already, come back unchanged."""
    parts = urlsplit(url)
    if not endpoint or not is_cloud_url(url) or "endpoint" in dict(parse_qsl(parts.query)):
        return url
    query = "&".join(q for q in (parts.query, urlencode({"endpoint": endpoint})) if q)
    return urlunsplit(parts._replace(query=query))


def _key(path: str) -> str:
    """A key's path percent-encoded once ("/" kept; a key already encoded, as kerchunk writes
    them, is left as it is)."""
    return quote(path.lstrip("/"), safe="/%~-._")


def _prefix(key: str) -> str:
    key = key.strip("/")
    return f"{key}/" if key else ""


@dataclass(frozen=True)
class CloudUrl:
    """A cloud URL taken apart: listing ``api``, ``bucket`` (container), ``key`` and the options
    (``region``, ``endpoint``, ``account``: the URL's own query first, then those given)."""

    api: str
    bucket: str
    key: str
    region: str | None = None
    endpoint: str | None = None
    account: str | None = None


def split_cloud_url(url: str, *, region: str | None = None, endpoint: str | None = None,
                    account: str | None = None) -> CloudUrl:
    parts = urlsplit(url)
    api = _SCHEMES[parts.scheme.lower()]
    given = dict(parse_qsl(parts.query, keep_blank_values=True))
    wrong = sorted(set(given) - set(CLOUD_OPTIONS))
    if wrong:
        raise StoreError(f"{url}: unknown option {wrong[0]!r} (a cloud URL takes "
                         f"{', '.join(CLOUD_OPTIONS)})")
    bucket, key = parts.netloc, parts.path.lstrip("/")
    account = given.get("account") or account
    if api == "azure" and "@" in bucket:  # abfs://container@account.dfs.core.windows.net/key
        bucket, _, host = bucket.partition("@")
        match = _AZURE.match(host.lower())
        account = match["account"] if match else host.split(".")[0]
    if not bucket or "@" in bucket or ":" in bucket or "/" in bucket:
        raise StoreError(f"{url}: not a {parts.scheme}://BUCKET/KEY URL")
    if api == "azure" and not account:
        raise StoreError(f"{url}: an Azure URL needs the storage account: "
                         f"{parts.scheme}://CONTAINER@ACCOUNT.dfs.core.windows.net/KEY, or "
                         f"?account=NAME (AZURE_STORAGE_ACCOUNT_NAME on the command line)")
    return CloudUrl(api, bucket, key, given.get("region") or region,
                    given.get("endpoint") or endpoint, account)


def locate(url: str, *, region: str | None = None, endpoint: str | None = None,
           account: str | None = None, allow_http: bool = True) -> Location:
    """The HTTP(S) URL of a cloud URL or bucket URL and its bucket. Options in the URL's query
    (``region``, ``endpoint``, ``account``) win over the arguments; a plain ``http://``
    endpoint needs ``allow_http`` (``AWS_ALLOW_HTTP=true`` on the command line). Other URLs
    come back as they are, with their bucket when they point into a known bucket host."""
    if not is_cloud_url(url):
        return Location(url, _bucket_of_https(urlsplit(url)))
    cloud = split_cloud_url(url, region=region, endpoint=endpoint, account=account)
    bucket, key = cloud.bucket, cloud.key
    if cloud.endpoint:
        return _at_endpoint(url, cloud.api, cloud.endpoint, bucket, key, allow_http)
    if cloud.api == "s3":
        return _s3(bucket, key, cloud.region or DEFAULT_REGION)
    if cloud.api == "gcs":
        return Location(f"https://storage.googleapis.com/{bucket}/{_key(key)}".rstrip("/"),
                        _gcs_bucket(bucket, key))
    root = f"https://{cloud.account}.blob.core.windows.net/{bucket}"
    return Location(f"{root}/{_key(key)}".rstrip("/"), Bucket("azure", root, _prefix(key)))


def _s3(bucket: str, key: str, region: str) -> Location:
    """Virtual-host style when the bucket name fits in a host name, else path style."""
    host = "s3.amazonaws.com" if region == DEFAULT_REGION else f"s3.{region}.amazonaws.com"
    root = (f"https://{bucket}.{host}" if _VIRTUAL_HOST_OK.match(bucket)
            else f"https://{host}/{bucket}")
    return Location(f"{root}/{_key(key)}".rstrip("/"), Bucket("s3", root, _prefix(key)))


def _gcs_bucket(bucket: str, key: str) -> Bucket:
    return Bucket("gcs", f"https://storage.googleapis.com/storage/v1/b/{quote(bucket, safe='')}/o",
                  _prefix(key))


def _at_endpoint(url: str, api: str, endpoint: str, bucket: str, key: str,
                 allow_http: bool) -> Location:
    """Path style at a custom S3-compatible endpoint (MinIO, Ceph, moto...)."""
    scheme, netloc, path, _query, _fragment = urlsplit(endpoint)
    if scheme not in ("http", "https") or not netloc:
        raise StoreError(f"{url}: endpoint {endpoint!r} is not an http(s):// URL")
    if scheme == "http" and not allow_http:
        raise StoreError(f"{url}: endpoint {endpoint} is plain HTTP; set AWS_ALLOW_HTTP=true "
                         f"to allow it")
    if api != "s3":
        raise StoreError(f"{url}: a custom endpoint is for S3-compatible stores (s3://)")
    root = urlunsplit((scheme, netloc, f"{path.rstrip('/')}/{quote(bucket, safe='')}", "", ""))
    return Location(f"{root}/{_key(key)}".rstrip("/"), Bucket("s3", root, _prefix(key)))


def _bucket_of_https(parts) -> Bucket | None:
    """The bucket an https URL points into, for the well-known object-store hosts."""
    if parts.scheme not in ("http", "https") or parts.query:
        return None  # a signed or otherwise parameterised URL: not ours to list
    host, path = parts.netloc.lower(), parts.path.lstrip("/")
    base = f"{parts.scheme}://{parts.netloc}"
    if _S3_VIRTUAL.match(host):
        return Bucket("s3", base, _prefix(path))
    first, _, rest = path.partition("/")
    if not first:
        return None
    if _S3_PATH.match(host):
        return Bucket("s3", f"{base}/{first}", _prefix(rest))
    if host == "storage.googleapis.com":
        return _gcs_bucket(first, rest)
    if host.endswith(".storage.googleapis.com"):
        return _gcs_bucket(host[:-len(".storage.googleapis.com")], path)
    if _AZURE.match(host):
        return Bucket("azure", f"{base}/{first}", _prefix(rest))
    return None


#: the CORS rule a bucket needs so that a web page can read it, per API, ready to paste
CORS_HOWTO = {
    "s3": 'aws s3api put-bucket-cors --bucket BUCKET --cors-configuration \'{"CORSRules": [{'
          '"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"], "AllowedHeaders": ["*"], '
          '"ExposeHeaders": ["Content-Range", "Content-Length", "ETag"], "MaxAgeSeconds": 3600}]}\'',
    "gcs": 'gcloud storage buckets update gs://BUCKET --cors-file=cors.json with cors.json = '
           '[{"origin": ["*"], "method": ["GET", "HEAD"], "responseHeader": ["Content-Range", '
           '"Content-Length", "Range"], "maxAgeSeconds": 3600}]',
    "azure": "az storage cors add --account-name ACCOUNT --services b --methods GET HEAD "
             "--origins '*' --allowed-headers '*' --exposed-headers '*' --max-age 3600",
}


def cors_hint(api: str) -> str:
    """What to do when a page may not read a bucket: its CORS configuration."""
    return (f"If the bucket does not allow this page to read it, configure CORS on it "
            f"(origins may be narrowed to this site): {CORS_HOWTO[api]}")
