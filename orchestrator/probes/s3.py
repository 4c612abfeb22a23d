"""Object Lock probe for an S3 repository: read-only calls only.

A plain DELETE proves nothing on S3 (a versioned bucket accepts it with a delete marker), so we read
what the bucket says about itself: its Object Lock configuration (enabled, default mode and period),
its versioning and location, and the retention of a random sample of data objects (HeadObject's lock
headers, which AWS, MinIO and Ceph return and which need no object download).
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timezone
from typing import Any

from orchestrator.probes import INCONCLUSIVE, PROTECTED, UNPROTECTED, ProbeResult
from orchestrator.probes.location import Endpoint, parse_endpoint
from orchestrator.redact import Redactor

METHOD = "s3-object-lock"
LISTED_OBJECTS = 1000
_NO_LOCK_CODES = {"ObjectLockConfigurationNotFoundError", "ObjectLockConfigurationNotFound"}


def probe(repository_string: str, environment: dict[str, str], sample: int, timeout: float, redactor: Redactor,
          chooser: random.Random, now: datetime) -> ProbeResult:
    """Given an `s3:` repository string and the backend environment, return what the bucket's Object Lock protects."""
    endpoint = parse_endpoint(repository_string)
    if not endpoint.bucket:
        return ProbeResult(METHOD, INCONCLUSIVE, None, "no bucket in the repository string")
    try:
        client = _client(endpoint, environment, timeout)
        raw = _read_bucket(client, endpoint, sample, chooser)
    except Exception as error:  # noqa: BLE001 - any client failure leaves the question open, never a pass
        return ProbeResult(METHOD, INCONCLUSIVE, None, redactor.redact(f"the S3 probe failed: {_plain(error)}"))
    return ProbeResult(METHOD, *judge(raw, now), raw=raw)


def judge(raw: dict[str, Any], now: datetime) -> tuple[str, str | None, str]:
    """Given what the bucket said (see `_read_bucket`), return (verdict, protection, summary)."""
    lock = raw["object_lock"]
    if lock.get("error"):
        return INCONCLUSIVE, None, f"the Object Lock configuration could not be read: {lock['error']}"
    if not lock["enabled"]:
        return UNPROTECTED, None, "Object Lock is not enabled on the bucket: objects can be deleted"
    unprotected = [item["key"] for item in raw["samples"] if not _is_retained(item, now)]
    default = lock.get("default_retention")
    period = _period(default) if default else "no default retention"
    if unprotected:
        return (UNPROTECTED, None, f"Object Lock is enabled ({period}) but {len(unprotected)} of "
                                   f"{len(raw['samples'])} sampled data object(s) have no active retention, "
                                   f"e.g. {unprotected[0]}")
    if not default and not raw["samples"]:
        return UNPROTECTED, None, "Object Lock is enabled but has no default retention and no data object was sampled"
    mode = (default or {}).get("mode") or raw["samples"][0].get("mode")
    note = " (GOVERNANCE: users allowed to bypass governance retention can still delete)" if mode == "GOVERNANCE" else ""
    return (PROTECTED, "object-lock", f"Object Lock enabled, {period}; {len(raw['samples'])} sampled data "
                                      f"object(s) under active retention{note}")


def _client(endpoint: Endpoint, environment: dict[str, str], timeout: float) -> Any:
    import boto3
    from botocore.config import Config as BotoConfig

    # With --verbose the root logger is at DEBUG, where botocore logs signed request headers (access key id).
    for name in ("boto3", "botocore", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
    host = f"[{endpoint.host}]" if ":" in (endpoint.host or "") else endpoint.host
    url = f"{endpoint.scheme or 'https'}://{host}" + (f":{endpoint.port}" if endpoint.port else "")
    addressing = "virtual" if (endpoint.host or "").endswith("amazonaws.com") else "path"
    config = BotoConfig(connect_timeout=timeout, read_timeout=timeout, retries={"mode": "standard", "total_max_attempts": 2},
                        s3={"addressing_style": addressing})
    session = boto3.session.Session(
        aws_access_key_id=environment.get("AWS_ACCESS_KEY_ID"),
        aws_secret_access_key=environment.get("AWS_SECRET_ACCESS_KEY"),
        aws_session_token=environment.get("AWS_SESSION_TOKEN"),
        region_name=environment.get("AWS_DEFAULT_REGION") or environment.get("AWS_REGION") or "us-east-1",
    )
    return session.client("s3", endpoint_url=url, config=config)


def _read_bucket(client: Any, endpoint: Endpoint, sample: int, chooser: random.Random) -> dict[str, Any]:
    bucket = endpoint.bucket
    prefix = f"{endpoint.path.strip('/')}/" if endpoint.path and endpoint.path.strip("/") else ""
    raw: dict[str, Any] = {"bucket": bucket, "prefix": prefix, "object_lock": _lock_configuration(client, bucket)}
    raw["versioning"] = client.get_bucket_versioning(Bucket=bucket).get("Status") or "Disabled"
    raw["bucket_region"] = client.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix + "data/", MaxKeys=LISTED_OBJECTS)
    keys = [item["Key"] for item in listed.get("Contents", [])]
    raw["data_objects_listed"] = len(keys)
    raw["samples"] = [_retention(client, bucket, key) for key in sorted(chooser.sample(keys, min(sample, len(keys))))]
    return raw


def _lock_configuration(client: Any, bucket: str | None) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    try:
        answer = client.get_object_lock_configuration(Bucket=bucket).get("ObjectLockConfiguration", {})
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in _NO_LOCK_CODES:
            return {"enabled": False, "answer": code}
        return {"enabled": None, "error": f"{code or 'error'}: {error.response.get('Error', {}).get('Message', '')}"}
    retention = (answer.get("Rule") or {}).get("DefaultRetention")
    default = None
    if retention:
        default = {"mode": retention.get("Mode"), "days": retention.get("Days") or None,
                   "years": retention.get("Years") or None}
    return {"enabled": answer.get("ObjectLockEnabled") == "Enabled", "default_retention": default,
            "answer": answer}


def _retention(client: Any, bucket: str | None, key: str) -> dict[str, Any]:
    head = client.head_object(Bucket=bucket, Key=key)
    until = head.get("ObjectLockRetainUntilDate")
    return {"key": key, "version_id": head.get("VersionId"), "mode": head.get("ObjectLockMode"),
            "retain_until": until.astimezone(timezone.utc).isoformat() if until else None,
            "legal_hold": head.get("ObjectLockLegalHoldStatus")}


def _is_retained(item: dict[str, Any], now: datetime) -> bool:
    if item.get("legal_hold") == "ON":
        return True
    until = item.get("retain_until")
    return bool(item.get("mode")) and until is not None and datetime.fromisoformat(until) > now


def _period(default: dict[str, Any]) -> str:
    amount = f"{default['years']} year(s)" if default.get("years") else f"{default.get('days')} day(s)"
    return f"default retention {default.get('mode')} {amount}"


def _plain(error: Exception) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and response.get("Error"):
        return f"{response['Error'].get('Code')}: {response['Error'].get('Message')}"
    return str(error) or type(error).__name__
