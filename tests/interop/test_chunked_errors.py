"""Chunked-upload error paths: each must raise BoxAPIError with Box's status
and code (docs/protocol.md §4.5–4.6, §4.9, §6.3), and rejected parts must not be kept."""

from __future__ import annotations

import io
import uuid

import pytest
from box_sdk_gen import BoxAPIError, UploadFileAttributes, UploadFileAttributesParentField

from interop_helpers import (
    MiB,
    content_range,
    digest_header,
    expect_api_error,
    random_bytes,
    read_all,
    sha1_hex,
    unique_name,
    upload_part,
)

SIZE = 2 * MiB + 100  # 3 parts on the 1 MiB server: 1 MiB, 1 MiB, 100 bytes


@pytest.fixture
def open_session(client):
    data = random_bytes(SIZE)
    name = unique_name("errors")
    session = client.chunked_uploads.create_file_upload_session("0", SIZE, name)
    yield session, data, name
    try:
        client.chunked_uploads.delete_file_upload_session_by_id(session.id)
    except BoxAPIError:
        pass  # already aborted or gone; cleanup only


def put_raw(client, session, body: bytes, rng: str, digest: str):
    return client.chunked_uploads.upload_file_part(session.id, io.BytesIO(body), digest, rng)


def listed_offsets(client, session):
    listing = client.chunked_uploads.get_file_upload_session_parts(session.id)
    assert listing.total_count == len(listing.entries)
    return [(e.offset, e.sha_1) for e in listing.entries]


def folder_names(client, folder_id: str = "0"):
    names, offset = [], 0
    while True:
        page = client.folders.get_folder_items(folder_id, offset=offset, limit=1000)
        names.extend(e.name for e in page.entries)
        offset += len(page.entries)
        if not page.entries or offset >= page.total_count:
            return names


def test_wrong_part_digest_is_400_bad_digest(client, open_session):
    session, data, _ = open_session
    chunk = data[:MiB]
    with expect_api_error(400, "bad_digest"):
        put_raw(client, session, chunk, content_range(0, MiB - 1, SIZE), digest_header(b"other"))
    assert listed_offsets(client, session) == []
    assert client.chunked_uploads.get_file_upload_session_by_id(session.id).num_parts_processed == 0


def test_misaligned_content_range_is_416(client, open_session):
    session, data, _ = open_session
    chunk = data[1 : 1 + MiB]
    with expect_api_error(416, "requested_range_not_satisfiable"):
        put_raw(client, session, chunk, content_range(1, MiB, SIZE), digest_header(chunk))
    assert listed_offsets(client, session) == []


def test_short_non_last_part_is_416(client, open_session):
    session, data, _ = open_session
    chunk = data[:1000]
    with expect_api_error(416, "requested_range_not_satisfiable"):
        put_raw(client, session, chunk, content_range(0, 999, SIZE), digest_header(chunk))
    assert listed_offsets(client, session) == []


def test_range_total_other_than_file_size_is_416(client, open_session):
    session, data, _ = open_session
    chunk = data[:MiB]
    with expect_api_error(416, "requested_range_not_satisfiable"):
        put_raw(client, session, chunk, content_range(0, MiB - 1, SIZE + 1), digest_header(chunk))
    assert listed_offsets(client, session) == []


def test_overlap_with_different_bytes_is_416(client, open_session):
    session, data, _ = open_session
    stored = upload_part(client, session, data, 0)
    other = random_bytes(MiB)
    with expect_api_error(416, "range_overlaps_existing_part") as caught:
        put_raw(client, session, other, content_range(0, MiB - 1, SIZE), digest_header(other))
    conflicting = caught.context_info.get("conflicting_part")
    assert isinstance(conflicting, dict), f"context_info={caught.context_info!r}"
    assert conflicting.get("part_id") == stored.part_id
    assert listed_offsets(client, session) == [(0, sha1_hex(data[:MiB]))]


def test_identical_part_resend_is_idempotent(client, open_session):
    """Deviation (docs/protocol.md §4.6, §7): a byte-identical re-send (an SDK retry after
    a lost response) answers 200 with the stored part instead of Box's 416."""
    session, data, _ = open_session
    first = upload_part(client, session, data, 1)
    second = upload_part(client, session, data, 1)
    assert second.part_id == first.part_id
    assert listed_offsets(client, session) == [(MiB, sha1_hex(data[MiB : 2 * MiB]))]
    assert client.chunked_uploads.get_file_upload_session_by_id(session.id).num_parts_processed == 1


def test_rejected_parts_are_never_listed(client, open_session):
    session, data, _ = open_session
    last = data[2 * MiB :]
    # Every kind of rejection for the last part's range, then the good part.
    for body, rng, digest, status in [
        (last, content_range(2 * MiB, SIZE - 1, SIZE), digest_header(b"x"), 400),
        (last[1:], content_range(2 * MiB + 1, SIZE - 1, SIZE), digest_header(last[1:]), 416),
        (last[:50], content_range(2 * MiB, 2 * MiB + 49, SIZE), digest_header(last[:50]), 416),
    ]:
        with expect_api_error(status):
            put_raw(client, session, body, rng, digest)
    good = upload_part(client, session, data, 2)
    assert listed_offsets(client, session) == [(2 * MiB, good.sha_1)]
    page = client.chunked_uploads.get_file_upload_session_parts(session.id, offset=0, limit=10)
    assert page.total_count == 1 and [e.part_id for e in page.entries] == [good.part_id]


def test_commit_with_wrong_file_digest_is_400_digest_mismatch(client, open_session):
    session, data, name = open_session
    parts = [upload_part(client, session, data, i) for i in range(3)]
    with expect_api_error(400, "digest_mismatch"):
        client.chunked_uploads.create_file_upload_session_commit(
            session.id, parts, digest_header(data + b"!")
        )
    assert name not in folder_names(client), "a file was created despite digest_mismatch"


def test_commit_of_incomplete_session_is_400_parts_mismatch(client, open_session):
    session, data, name = open_session
    p0 = upload_part(client, session, data, 0)
    p2 = upload_part(client, session, data, 2)
    with expect_api_error(400, "parts_mismatch"):
        client.chunked_uploads.create_file_upload_session_commit(
            session.id, [p0, p2], digest_header(data)
        )
    assert name not in folder_names(client)
    # The session stays usable (Box's parts_mismatch is retried by clients).
    p1 = upload_part(client, session, data, 1)
    files = client.chunked_uploads.create_file_upload_session_commit(
        session.id, [p0, p1, p2], digest_header(data)
    )
    assert files is not None
    file = files.entries[0]
    assert file.sha_1 == sha1_hex(data)
    assert read_all(client.downloads.download_file(file.id)) == data


def test_commit_listing_fewer_parts_than_uploaded_is_400_parts_mismatch(client, open_session):
    session, data, name = open_session
    parts = [upload_part(client, session, data, i) for i in range(3)]
    with expect_api_error(400, "parts_mismatch"):
        client.chunked_uploads.create_file_upload_session_commit(
            session.id, parts[:2], digest_header(data)
        )
    assert name not in folder_names(client)


def test_unknown_session_is_404(client):
    unknown = uuid.uuid4().hex.upper()
    with expect_api_error(404):
        client.chunked_uploads.get_file_upload_session_by_id(unknown)
    with expect_api_error(404):
        client.chunked_uploads.get_file_upload_session_parts(unknown)
    with expect_api_error(404):
        client.chunked_uploads.delete_file_upload_session_by_id(unknown)


def test_malformed_session_id_is_400(client):
    with expect_api_error(400, "invalid_upload_session_id"):
        client.chunked_uploads.get_file_upload_session_by_id("not-a-session")


def test_list_parts_offset_over_10000_is_400(client, open_session):
    session, _, _ = open_session
    with expect_api_error(400):
        client.chunked_uploads.get_file_upload_session_parts(session.id, offset=10001)


def test_session_with_invalid_name_is_400(client):
    with expect_api_error(400, "item_name_invalid"):
        client.chunked_uploads.create_file_upload_session("0", 2 * MiB, "bad/name.bin")
    with expect_api_error(400, "item_name_too_long"):
        client.chunked_uploads.create_file_upload_session("0", 2 * MiB, "n" * 256)


def test_session_in_missing_folder_is_404(client):
    with expect_api_error(404):
        client.chunked_uploads.create_file_upload_session(
            "987654321987", 2 * MiB, unique_name("orphan")
        )


def test_session_name_conflict_is_409_item_name_in_use(client):
    name = unique_name("taken")
    existing = client.uploads.upload_file(
        UploadFileAttributes(name=name, parent=UploadFileAttributesParentField(id="0")),
        io.BytesIO(b"x" * 10),
    ).entries[0]
    # Box compares names case-insensitively (docs/protocol.md §1.7).
    with expect_api_error(409, "item_name_in_use") as caught:
        client.chunked_uploads.create_file_upload_session("0", 2 * MiB, name.upper())
    conflicts = caught.context_info.get("conflicts")
    # For files Box sends `conflicts` as one object (docs/protocol.md §6.2).
    assert isinstance(conflicts, dict), f"context_info={caught.context_info!r}"
    assert conflicts.get("id") == existing.id


def test_session_below_minimum_size_is_400(client):
    with expect_api_error(400, "file_size_too_small"):
        client.chunked_uploads.create_file_upload_session("0", MiB - 1, unique_name("tiny"))


def test_version_session_for_unknown_file_is_404(client):
    with expect_api_error(404, "not_found"):
        client.chunked_uploads.create_file_upload_session_for_existing_file(
            "987654321987", 2 * MiB
        )


def test_other_users_session_is_not_found(client, bob_client, open_session):
    # Deliberate deviation: Box answers 403 `forbidden` for another user's
    # session; boxup answers 404 so that one user cannot learn that another
    # user's id exists (docs/protocol.md §7).
    session, data, _ = open_session
    with expect_api_error(404, "not_found"):
        bob_client.chunked_uploads.get_file_upload_session_by_id(session.id)
    with expect_api_error(404, "not_found"):
        bob_client.chunked_uploads.upload_file_part(
            session.id,
            io.BytesIO(data[:MiB]),
            digest_header(data[:MiB]),
            content_range(0, MiB - 1, SIZE),
        )
    with expect_api_error(404, "not_found"):
        bob_client.chunked_uploads.delete_file_upload_session_by_id(session.id)
    # Alice's session is untouched.
    assert client.chunked_uploads.get_file_upload_session_by_id(session.id).id == session.id
    assert listed_offsets(client, session) == []
