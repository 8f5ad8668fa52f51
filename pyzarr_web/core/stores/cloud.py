"""Object-store URLs (``s3://``, ``gs://``) as the public HTTPS URLs a browser can fetch.

Only anonymous, public access: a bucket that needs credentials answers 403, which the HTTP store
reports naming the URL."""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from ..errors import StoreError

#: scheme -> how "bucket" and "key" become an HTTPS URL
_ENDPOINTS = {
    "s3": "https://{bucket}.s3.amazonaws.com/{key}",
    "s3a": "https://{bucket}.s3.amazonaws.com/{key}",
    "gs": "https://storage.googleapis.com/{bucket}/{key}",
    "gcs": "https://storage.googleapis.com/{bucket}/{key}",
}


def is_cloud_url(url: str) -> bool:
    return urlsplit(url).scheme.lower() in _ENDPOINTS


def public_https_url(url: str) -> str:
    """The public HTTPS endpoint of an ``s3://bucket/key`` or ``gs://bucket/key`` URL; any other
    URL is returned unchanged. The key keeps its "/" and is percent-encoded once (a key that is
    already encoded, as kerchunk writes them, is left as it is)."""
    parts = urlsplit(url)
    template = _ENDPOINTS.get(parts.scheme.lower())
    if template is None:
        return url
    bucket = parts.netloc
    if not bucket or "@" in bucket or ":" in bucket:
        raise StoreError(f"{url}: not a {parts.scheme}://BUCKET/KEY URL")
    return template.format(bucket=bucket, key=quote(parts.path.lstrip("/"), safe="/%~-._"))
