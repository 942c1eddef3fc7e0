"""Small helpers shared by the interop tests (hashing, ranges, errors)."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import os
import re
import uuid
from dataclasses import dataclass
from typing import Iterator, List, Optional

from box_sdk_gen import BoxAPIError, BoxClient
from box_sdk_gen.schemas.upload_part import UploadPart
from box_sdk_gen.schemas.upload_session import UploadSession

MiB = 1024 * 1024
# The "small" test server's settings (see conftest.py).
SMALL_PART_SIZE = 1 * MiB
SMALL_MIN_CHUNKED = 1 * MiB
# Developer tokens the test servers accept (TOKEN=USER).
ALICE_TOKEN = "interop-alice-token"
BOB_TOKEN = "interop-bob-token"
HEX40 = re.compile(r"^[0-9a-f]{40}$")


def random_bytes(n: int) -> bytes:
    return os.urandom(n)


def sha1_hex(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def sha1_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha1(data).digest()).decode()


def digest_header(data: bytes) -> str:
    """The `Digest` value the SDK sends: `sha=<base64 SHA-1>`."""
    return "sha=" + sha1_b64(data)


def content_range(first: int, last: int, total: int) -> str:
    return f"bytes {first}-{last}/{total}"


def unique_name(prefix: str, ext: str = ".bin") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}{ext}"


def read_all(stream) -> bytes:
    assert stream is not None, "download returned None (202 or empty response)"
    out = io.BytesIO()
    while True:
        chunk = stream.read(1024 * 1024)
        if not chunk:
            break
        out.write(chunk)
    return out.getvalue()


def split_parts(data: bytes, part_size: int) -> List[bytes]:
    return [data[i : i + part_size] for i in range(0, len(data), part_size)]


@dataclass
class CaughtError:
    error: Optional[BoxAPIError] = None

    @property
    def status(self) -> int:
        return self.error.response_info.status_code

    @property
    def code(self) -> Optional[str]:
        return self.error.response_info.code

    @property
    def context_info(self) -> dict:
        return self.error.response_info.context_info or {}


@contextlib.contextmanager
def expect_api_error(status: int, code: Optional[str] = None) -> Iterator[CaughtError]:
    """Assert that the block raises BoxAPIError with this status (and code)."""
    caught = CaughtError()
    try:
        yield caught
    except BoxAPIError as e:
        caught.error = e
        got_status = e.response_info.status_code
        got_code = e.response_info.code
        body = e.response_info.raw_body
        assert got_status == status, (
            f"expected HTTP {status}{' ' + code if code else ''}, "
            f"got HTTP {got_status} code={got_code!r} body={body!r}"
        )
        if code is not None:
            assert got_code == code, (
                f"expected error code {code!r} with HTTP {status}, "
                f"got code={got_code!r} body={body!r}"
            )
        # Box's error object (docs/protocol.md §6.1).
        parsed = e.response_info.body or {}
        assert parsed.get("type") == "error", f"error body has no type=error: {body!r}"
        assert parsed.get("status") == status, f"error body status mismatch: {body!r}"
        return
    raise AssertionError(
        f"expected BoxAPIError HTTP {status}{' ' + code if code else ''}, "
        "but the call succeeded"
    )


def upload_part(
    client: BoxClient,
    session: UploadSession,
    data: bytes,
    index: int,
    *,
    by_url: bool = False,
) -> UploadPart:
    """Upload part `index` of `data` (split by the session's part size)."""
    part_size = session.part_size
    first = index * part_size
    chunk = data[first : first + part_size]
    last = first + len(chunk) - 1
    rng = content_range(first, last, len(data))
    if by_url:
        uploaded = client.chunked_uploads.upload_file_part_by_url(
            session.session_endpoints.upload_part,
            io.BytesIO(chunk),
            digest_header(chunk),
            rng,
        )
    else:
        uploaded = client.chunked_uploads.upload_file_part(
            session.id, io.BytesIO(chunk), digest_header(chunk), rng
        )
    part = uploaded.part
    # What box-sdk-gen's upload_big_file asserts on every part (docs/protocol.md §3.2).
    assert part is not None, "part upload answered without a `part` object"
    assert part.offset == first
    assert part.size == len(chunk)
    assert part.sha_1 == sha1_hex(chunk), f"part sha1 {part.sha_1!r} is not the lowercase hex SHA-1"
    assert isinstance(part.part_id, str) and part.part_id
    return part
