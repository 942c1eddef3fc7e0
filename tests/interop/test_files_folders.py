"""Simple uploads, preflight, folders, file info, download and delete."""

from __future__ import annotations

import io
import re

from box_sdk_gen import (
    BoxAPIError,
    CreateFolderParent,
    PreflightFileUploadCheckParent,
    UploadFileAttributes,
    UploadFileAttributesParentField,
    UploadFileVersionAttributes,
    UploadWithPreflightCheckAttributes,
    UploadWithPreflightCheckAttributesParentField,
)

from interop_helpers import expect_api_error, random_bytes, read_all, sha1_hex, unique_name


def upload(client, data: bytes, name: str, folder_id: str = "0"):
    files = client.uploads.upload_file(
        UploadFileAttributes(name=name, parent=UploadFileAttributesParentField(id=folder_id)),
        io.BytesIO(data),
    )
    assert files.total_count == 1
    assert len(files.entries) == 1
    return files.entries[0]


def all_items(client, folder_id: str):
    entries, offset = [], 0
    while True:
        page = client.folders.get_folder_items(folder_id, offset=offset, limit=1000)
        entries.extend(page.entries)
        offset += len(page.entries)
        if not page.entries or offset >= page.total_count:
            return entries


def test_upload_file_then_get_info_and_download(client):
    data = random_bytes(300_000)
    name = unique_name("simple", ".txt")
    file = upload(client, data, name)
    assert file.type == "file"
    assert re.fullmatch(r"[0-9]+", file.id)
    assert file.name == name
    assert file.size == len(data)
    assert file.sha_1 == sha1_hex(data)
    assert file.parent is not None and file.parent.id == "0"

    info = client.files.get_file_by_id(file.id)
    assert info.id == file.id
    assert info.type == "file"
    assert info.name == name
    assert info.size == len(data)
    assert info.sha_1 == sha1_hex(data)
    assert info.parent.id == "0"
    assert info.file_version is not None and info.file_version.id
    assert info.item_status == "active"

    assert read_all(client.downloads.download_file(file.id)) == data


def test_download_with_range_header(client):
    data = random_bytes(10_000)
    file = upload(client, data, unique_name("ranged"))
    part = read_all(client.downloads.download_file(file.id, range="bytes=100-1099"))
    assert part == data[100:1100]


def test_upload_file_name_conflict_is_409(client):
    name = unique_name("dup")
    first = upload(client, b"one", name)
    with expect_api_error(409, "item_name_in_use") as caught:
        upload(client, b"two", name)
    conflicts = caught.context_info.get("conflicts")
    assert isinstance(conflicts, dict), f"context_info={caught.context_info!r}"
    assert conflicts.get("id") == first.id
    assert read_all(client.downloads.download_file(first.id)) == b"one"


def test_upload_file_version(client):
    name = unique_name("simple-version")
    first = upload(client, b"version one", name)
    files = client.uploads.upload_file_version(
        first.id, UploadFileVersionAttributes(name=name), io.BytesIO(b"version two!")
    )
    second = files.entries[0]
    assert second.id == first.id
    assert second.sha_1 == sha1_hex(b"version two!")
    assert second.file_version.id != first.file_version.id
    assert read_all(client.downloads.download_file(first.id)) == b"version two!"


def test_upload_with_preflight_check(client, http_log):
    data = random_bytes(5000)
    name = unique_name("preflight")
    files = client.uploads.upload_with_preflight_check(
        UploadWithPreflightCheckAttributes(
            name=name,
            parent=UploadWithPreflightCheckAttributesParentField(id="0"),
            size=len(data),
        ),
        io.BytesIO(data),
    )
    file = files.entries[0]
    assert file.name == name
    assert file.size == len(data)
    assert file.sha_1 == sha1_hex(data)
    # The SDK asked OPTIONS /files/content, then posted to the returned URL.
    assert [e.status for e in http_log.matching("OPTIONS", "/files/content")] == [200]
    assert [e.status for e in http_log.matching("POST", "/files/content")] == [201]
    assert read_all(client.downloads.download_file(file.id)) == data


def test_preflight_conflict_fails_with_409(client, http_log):
    name = unique_name("preflight-dup")
    upload(client, b"first", name)
    http_log.clear()
    with expect_api_error(409, "item_name_in_use"):
        client.uploads.upload_with_preflight_check(
            UploadWithPreflightCheckAttributes(
                name=name,
                parent=UploadWithPreflightCheckAttributesParentField(id="0"),
                size=6,
            ),
            io.BytesIO(b"second"),
        )
    # Refused by the preflight itself: no upload was attempted.
    assert http_log.matching("POST", "/files/content") == []


def test_preflight_with_invalid_size_is_400(client):
    with expect_api_error(400):
        client.uploads.preflight_file_upload_check(
            name=unique_name("negative"),
            size=-1,
            parent=PreflightFileUploadCheckParent(id="0"),
        )


def test_create_folder_and_list_items(client):
    folder_name = unique_name("folder", "")
    folder = client.folders.create_folder(folder_name, CreateFolderParent(id="0"))
    assert folder.type == "folder"
    assert re.fullmatch(r"[0-9]+", folder.id) and folder.id != "0"
    assert folder.name == folder_name
    assert folder.parent is not None and folder.parent.id == "0"

    sub = client.folders.create_folder("sub", CreateFolderParent(id=folder.id))
    assert sub.parent.id == folder.id
    files = {upload(client, random_bytes(100 + i), f"file-{i}.bin", folder.id).id for i in range(3)}

    listing = client.folders.get_folder_items(folder.id)
    assert listing.total_count == 4
    assert {e.id for e in listing.entries} == files | {sub.id}
    assert {(e.type, e.name) for e in listing.entries} == {
        ("folder", "sub"),
        ("file", "file-0.bin"),
        ("file", "file-1.bin"),
        ("file", "file-2.bin"),
    }

    first = client.folders.get_folder_items(folder.id, offset=0, limit=2)
    second = client.folders.get_folder_items(folder.id, offset=2, limit=2)
    assert first.total_count == second.total_count == 4
    assert len(first.entries) == 2 and len(second.entries) == 2
    assert {e.id for e in first.entries + second.entries} == files | {sub.id}

    assert folder.id in {e.id for e in all_items(client, "0")}
    assert client.folders.get_folder_items(sub.id).total_count == 0


def test_create_folder_name_conflict_is_409(client):
    name = unique_name("dup-folder", "")
    client.folders.create_folder(name, CreateFolderParent(id="0"))
    with expect_api_error(409, "item_name_in_use"):
        client.folders.create_folder(name, CreateFolderParent(id="0"))


def test_unknown_folder_is_404(client):
    with expect_api_error(404, "not_found"):
        client.folders.get_folder_items("987654321987")


def test_unknown_file_is_404(client):
    with expect_api_error(404, "not_found"):
        client.files.get_file_by_id("987654321987")


def test_delete_file(client):
    name = unique_name("doomed")
    file = upload(client, b"bye", name)
    assert client.files.get_file_by_id(file.id).id == file.id
    client.files.delete_file_by_id(file.id)
    with expect_api_error(404):
        client.files.get_file_by_id(file.id)
    assert file.id not in {e.id for e in all_items(client, "0")}
    # The name is free again.
    assert upload(client, b"again", name).id != file.id


def test_users_are_isolated(client, bob_client):
    name = unique_name("alice-only")
    file = upload(client, b"secret", name)
    with expect_api_error(404):
        bob_client.files.get_file_by_id(file.id)
    with expect_api_error(404):
        bob_client.downloads.download_file(file.id)
    assert name not in {e.name for e in all_items(bob_client, "0")}


def test_invalid_token_is_401(small_server, client_factory):
    stranger = client_factory(small_server.origin, "not-a-valid-token")
    try:
        stranger.folders.get_folder_items("0")
    except BoxAPIError as e:
        assert e.response_info.status_code == 401
    else:
        raise AssertionError("a request with an unknown token succeeded")
