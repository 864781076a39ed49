"""An S3-compatible object store (AWS S3, MinIO, Ceph…) behind :class:`~tracker.photos.blobs.Blobs`.

Every application server pointed at the same bucket sees the same photos
and the same uploads in progress. A store that does not answer, or answers
with a server error, raises :class:`StoreUnavailable` (the API answers 503
with ``Retry-After``); nothing is acknowledged to a phone before the store
has said it holds the bytes.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tracker.photos.blobs import BlobMissing, Entry, StoreUnavailable, checked

T = TypeVar("T")
MISSING = {"NoSuchKey", "404", "NotFound"}


class S3Blobs:
    def __init__(self, client: Any, bucket: str, prefix: str = "") -> None:
        self.client, self.bucket = client, bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> S3Blobs:
        """``S3_BUCKET``, ``S3_ENDPOINT_URL``, ``S3_REGION``, ``S3_PREFIX``; credentials the
        standard AWS way (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, profile or role)."""
        if not config.get("S3_BUCKET"):
            raise RuntimeError("PHOTO_STORE=s3 needs S3_BUCKET")
        settings = Config(connect_timeout=3, read_timeout=20, retries={"max_attempts": 3, "mode": "standard"},
                          s3={"addressing_style": "path"})
        client = boto3.session.Session().client(
            "s3", endpoint_url=config.get("S3_ENDPOINT_URL") or None, region_name=config.get("S3_REGION") or None,
            config=settings)
        return cls(client, config["S3_BUCKET"], config.get("S3_PREFIX", ""))

    def _key(self, key: str) -> str:
        return self.prefix + checked(key)

    def _call(self, operation: Callable[..., T], **kwargs: Any) -> T:
        try:
            return operation(Bucket=self.bucket, **kwargs)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in MISSING:
                raise BlobMissing(kwargs.get("Key", "")) from None
            raise StoreUnavailable(f"the object store answered {code or 'an error'}") from exc
        except BotoCoreError as exc:  # cannot connect, timed out, broken answer
            raise StoreUnavailable(f"the object store did not answer ({exc.__class__.__name__})") from exc

    def put(self, key: str, source: IO[bytes]) -> None:
        self._call(self.client.put_object, Key=self._key(key), Body=source)

    def get(self, key: str) -> IO[bytes]:
        return self._call(self.client.get_object, Key=self._key(key))["Body"]

    def size(self, key: str) -> int | None:
        try:
            return int(self._call(self.client.head_object, Key=self._key(key))["ContentLength"])
        except BlobMissing:
            return None

    def list(self, prefix: str) -> list[Entry]:
        full = self.prefix + (checked(prefix.rstrip("/")) + "/" if prefix.strip("/") else "")
        found, token = [], None
        while True:
            extra = {"ContinuationToken": token} if token else {}
            page = self._call(self.client.list_objects_v2, Prefix=full, **extra)
            found += [Entry(item["Key"][len(self.prefix):], int(item["Size"]), item["LastModified"])
                      for item in page.get("Contents", [])]
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return sorted(found, key=lambda e: e.key)

    def delete(self, keys: Iterable[str]) -> None:
        batch: list[dict[str, str]] = []
        for key in keys:
            batch.append({"Key": self._key(key)})
            if len(batch) == 1000:  # the most one request may name
                self._delete(batch)
                batch = []
        if batch:
            self._delete(batch)

    def _delete(self, batch: list[dict[str, str]]) -> None:
        self._call(self.client.delete_objects, Delete={"Objects": batch, "Quiet": True})

    def local_path(self, key: str) -> Path | None:
        return None

    def ensure_bucket(self) -> None:
        """Create the bucket when it does not exist (a fresh MinIO, the tests)."""
        try:
            self._call(self.client.head_bucket)
        except (BlobMissing, StoreUnavailable):
            self._call(self.client.create_bucket)
