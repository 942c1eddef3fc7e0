"""Every method of `client.chunked_uploads`, by id and by URL (1 MiB parts)."""

from __future__ import annotations

import datetime
import io
import re

import pytest
from box_sdk_gen import CreateFolderParent, UploadFileAttributes, UploadFileAttributesParentField

from interop_helpers import (
    SMALL_PART_SIZE,
    MiB,
    digest_header,
    expect_api_error,
    random_bytes,
    read_all,
    sha1_hex,
    unique_name,
    upload_part,
)

FILE_SIZE = 5 * MiB + 12345  # 6 parts of the 1 MiB server, the last one short
TOTAL_PARTS = 6
UPLOAD_ORDER = [3, 0, 5, 1, 4, 2]  # out of order on purpose

BY = pytest.mark.parametrize("by_url", [False, True], ids=["by_id", "by_url"])


class Calls:
    """The same chunked-upload operation, by session id or by session URL."""

    def __init__(self, client, session, by_url: bool):
        self.cu = client.chunked_uploads
        self.session = session
        self.by_url = by_url
        self.endpoints = session.session_endpoints

    def get(self):
        if self.by_url:
            return self.cu.get_file_upload_session_by_url(self.endpoints.status)
        return self.cu.get_file_upload_session_by_id(self.session.id)

    def parts(self, **kw):
        if self.by_url:
            return self.cu.get_file_upload_session_parts_by_url(self.endpoints.list_parts, **kw)
        return self.cu.get_file_upload_session_parts(self.session.id, **kw)

    def commit(self, parts, digest):
        if self.by_url:
            return self.cu.create_file_upload_session_commit_by_url(
                self.endpoints.commit, parts, digest
            )
        return self.cu.create_file_upload_session_commit(self.session.id, parts, digest)

    def delete(self):
        if self.by_url:
            return self.cu.delete_file_upload_session_by_url(self.endpoints.abort)
        return self.cu.delete_file_upload_session_by_id(self.session.id)


def check_session(session, file_size: int, part_size: int = SMALL_PART_SIZE) -> None:
    """UploadSession as Box returns it on create (docs/protocol.md §3.1)."""
    assert session.type == "upload_session"
    assert re.fullmatch(r"[0-9A-F]{32}", session.id), f"session id {session.id!r}"
    assert session.part_size == part_size
    assert session.total_parts == -(-file_size // part_size)
    assert session.part_size * session.total_parts >= file_size
    assert session.num_parts_processed == 0
    # Sessions live 7 days (docs/protocol.md §4.11).
    expires = session.session_expires_at
    assert isinstance(expires, datetime.datetime), f"session_expires_at={expires!r}"
    assert expires.tzinfo is not None
    left = expires - datetime.datetime.now(datetime.timezone.utc)
    assert datetime.timedelta(days=6, hours=23) < left <= datetime.timedelta(days=7, minutes=5)
    ep = session.session_endpoints
    assert ep is not None, "no session_endpoints"
    base = ep.upload_part
    assert base and base.startswith("http") and base.endswith(f"/files/upload_sessions/{session.id}")
    assert ep.status == base
    assert ep.abort == base
    assert ep.list_parts == base + "/parts"
    assert ep.commit == base + "/commit"


@BY
def test_manual_upload_lifecycle(client, by_url):
    data = random_bytes(FILE_SIZE)
    name = unique_name("manual")
    session = client.chunked_uploads.create_file_upload_session("0", FILE_SIZE, name)
    check_session(session, FILE_SIZE)
    assert session.total_parts == TOTAL_PARTS
    calls = Calls(client, session, by_url)

    status = calls.get()
    assert status.id == session.id
    assert status.part_size == session.part_size
    assert status.total_parts == TOTAL_PARTS
    assert status.num_parts_processed == 0

    parts = {}
    for n, index in enumerate(UPLOAD_ORDER, start=1):
        parts[index] = upload_part(client, session, data, index, by_url=by_url)
        if n == 3:
            assert calls.get().num_parts_processed == 3
    assert len({p.part_id for p in parts.values()}) == TOTAL_PARTS
    assert calls.get().num_parts_processed == TOTAL_PARTS

    # Listing without a query: every part, sorted by offset (docs/protocol.md §4.7).
    listing = calls.parts()
    assert listing.total_count == TOTAL_PARTS
    assert listing.limit is not None, "list parts must always include `limit` (docs/protocol.md §3.2)"
    assert [e.offset for e in listing.entries] == [i * MiB for i in range(TOTAL_PARTS)]
    for entry in listing.entries:
        stored = parts[entry.offset // MiB]
        assert (entry.part_id, entry.size, entry.sha_1) == (
            stored.part_id,
            stored.size,
            stored.sha_1,
        )

    # Paging: offset is an index into the part list, limit the page size.
    seen = []
    for offset in range(0, TOTAL_PARTS, 2):
        page = calls.parts(offset=offset, limit=2)
        assert page.total_count == TOTAL_PARTS
        assert page.limit == 2
        assert page.offset == offset
        assert len(page.entries) == 2
        seen.extend(page.entries)
    assert [e.part_id for e in seen] == [e.part_id for e in listing.entries]
    tail = calls.parts(offset=4, limit=100)
    assert [e.offset for e in tail.entries] == [4 * MiB, 5 * MiB]
    assert tail.total_count == TOTAL_PARTS
    single = calls.parts(offset=1, limit=1)
    assert [e.offset for e in single.entries] == [1 * MiB]

    ordered = [parts[i] for i in range(TOTAL_PARTS)]
    files = calls.commit(ordered, digest_header(data))
    assert files is not None, "commit answered 202 (the SDK returns None)"
    assert files.total_count == 1
    assert len(files.entries) == 1
    file = files.entries[0]
    assert file.name == name
    assert file.size == FILE_SIZE
    assert file.sha_1 == sha1_hex(data)
    assert file.parent is not None and file.parent.id == "0"

    # Box's SDK tests delete the session after a successful commit (docs/protocol.md §4.10).
    calls.delete()
    with expect_api_error(404):
        calls.get()

    # Deleting the session never deletes the committed file.
    info = client.files.get_file_by_id(file.id)
    assert info.sha_1 == sha1_hex(data)
    assert info.size == FILE_SIZE
    assert read_all(client.downloads.download_file(file.id)) == data


@BY
def test_abort_then_everything_is_404(client, by_url):
    data = random_bytes(2 * MiB + 10)
    name = unique_name("aborted")
    session = client.chunked_uploads.create_file_upload_session("0", len(data), name)
    calls = Calls(client, session, by_url)
    part0 = upload_part(client, session, data, 0, by_url=by_url)

    calls.delete()

    with expect_api_error(404):
        calls.get()
    with expect_api_error(404):
        calls.parts()
    with expect_api_error(404):
        upload_part(client, session, data, 1, by_url=by_url)
    with expect_api_error(404):
        calls.commit([part0], digest_header(data))
    # No file was created: the name is still free for a new session.
    again = client.chunked_uploads.create_file_upload_session("0", len(data), name)
    client.chunked_uploads.delete_file_upload_session_by_id(again.id)


def _simple_upload(client, data: bytes, name: str, folder_id: str = "0"):
    files = client.uploads.upload_file(
        UploadFileAttributes(name=name, parent=UploadFileAttributesParentField(id=folder_id)),
        io.BytesIO(data),
    )
    return files.entries[0]


def test_new_version_via_session_for_existing_file(client):
    original = random_bytes(4096)
    name = unique_name("versioned")
    first = _simple_upload(client, original, name)

    new = random_bytes(2 * MiB + 777)
    session = client.chunked_uploads.create_file_upload_session_for_existing_file(
        first.id, len(new)
    )
    check_session(session, len(new))
    parts = {i: upload_part(client, session, new, i) for i in (2, 0, 1)}
    files = client.chunked_uploads.create_file_upload_session_commit(
        session.id, [parts[i] for i in range(3)], digest_header(new)
    )
    assert files is not None, "commit answered 202 (the SDK returns None)"
    version = files.entries[0]
    assert version.id == first.id, "a new version must keep the file id"
    assert version.name == name
    assert version.size == len(new)
    assert version.sha_1 == sha1_hex(new)
    assert version.sha_1 != first.sha_1
    assert version.file_version is not None and first.file_version is not None
    assert version.file_version.id != first.file_version.id
    assert version.etag != first.etag

    client.chunked_uploads.delete_file_upload_session_by_id(session.id)
    info = client.files.get_file_by_id(first.id)
    assert info.sha_1 == sha1_hex(new)
    assert info.size == len(new)
    assert read_all(client.downloads.download_file(first.id)) == new


def test_new_version_session_with_new_name(client):
    name = unique_name("before")
    first = _simple_upload(client, random_bytes(100), name)
    new = random_bytes(MiB + 1)
    new_name = unique_name("after")
    session = client.chunked_uploads.create_file_upload_session_for_existing_file(
        first.id, len(new), file_name=new_name
    )
    calls = Calls(client, session, by_url=True)
    parts = [upload_part(client, session, new, i, by_url=True) for i in (1, 0)]
    files = calls.commit(sorted(parts, key=lambda p: p.offset), digest_header(new))
    assert files is not None
    version = files.entries[0]
    assert version.id == first.id
    assert version.name == new_name
    assert version.sha_1 == sha1_hex(new)
    assert client.files.get_file_by_id(first.id).name == new_name
    calls.delete()


def test_repeated_commit_returns_the_same_file(client):
    """SDKs re-send a commit whose response was lost (5xx, timeout); commit
    must be idempotent (docs/protocol.md §4.9)."""
    data = random_bytes(MiB + 5)
    session = client.chunked_uploads.create_file_upload_session(
        "0", len(data), unique_name("recommit")
    )
    parts = [upload_part(client, session, data, i) for i in range(2)]
    first = client.chunked_uploads.create_file_upload_session_commit(
        session.id, parts, digest_header(data)
    )
    again = client.chunked_uploads.create_file_upload_session_commit(
        session.id, parts, digest_header(data)
    )
    assert first is not None and again is not None
    assert again.entries[0].id == first.entries[0].id
    assert again.entries[0].sha_1 == sha1_hex(data)
    client.chunked_uploads.delete_file_upload_session_by_id(session.id)


def test_upload_big_file_with_many_parts_into_a_folder(client):
    """upload_big_file through session_endpoints, 1 MiB parts, and a size
    that is an exact multiple of the part size (no empty last part)."""
    folder = client.folders.create_folder(
        unique_name("big-target", ""), CreateFolderParent(id="0")
    )
    data = random_bytes(12 * MiB)
    name = unique_name("many-parts")
    file = client.chunked_uploads.upload_big_file(io.BytesIO(data), name, len(data), folder.id)
    assert file.name == name
    assert file.size == len(data)
    assert file.sha_1 == sha1_hex(data)
    assert file.parent.id == folder.id
    items = client.folders.get_folder_items(folder.id)
    assert [(e.id, e.name) for e in items.entries] == [(file.id, name)]
    assert read_all(client.downloads.download_file(file.id)) == data


def test_download_previous_version(client):
    """`GET /files/{id}/content?version=` serves an older version (docs/protocol.md §5.4)."""
    original = random_bytes(3000)
    first = _simple_upload(client, original, unique_name("old-version"))
    new = random_bytes(MiB + 3)
    session = client.chunked_uploads.create_file_upload_session_for_existing_file(
        first.id, len(new)
    )
    parts = [upload_part(client, session, new, i) for i in range(2)]
    files = client.chunked_uploads.create_file_upload_session_commit(
        session.id, parts, digest_header(new)
    )
    assert files is not None and files.entries[0].id == first.id
    old = client.downloads.download_file(first.id, version=first.file_version.id)
    assert read_all(old) == original
    assert read_all(client.downloads.download_file(first.id)) == new
