"""Box's file and folder API around uploads, through the official SDK:
updates (rename, move, content times), copies, folder deletes, the current
user, download URLs and listings by marker."""

from __future__ import annotations

import io
import os

import requests
from box_sdk_gen import (
    CopyFileParent,
    CopyFolderParent,
    CreateFolderParent,
    UpdateFileByIdParent,
    UpdateFolderByIdParent,
    UploadFileAttributes,
    UploadFileAttributesParentField,
)

from interop_helpers import expect_api_error, random_bytes, read_all, sha1_hex, unique_name


def upload(client, data: bytes, name: str, folder_id: str = "0"):
    files = client.uploads.upload_file(
        UploadFileAttributes(name=name, parent=UploadFileAttributesParentField(id=folder_id)),
        io.BytesIO(data),
    )
    return files.entries[0]


def mkdir(client, name: str, parent: str = "0"):
    return client.folders.create_folder(name, CreateFolderParent(id=parent))


def test_update_file_renames_moves_and_sets_times(client):
    folder = mkdir(client, unique_name("dest", ""))
    data = random_bytes(2000)
    file = upload(client, data, unique_name("orig", ".txt"))
    new_name = unique_name("renamed", ".txt")
    moved = client.files.update_file_by_id(
        file.id,
        name=new_name,
        description="moved by the SDK",
        parent=UpdateFileByIdParent(id=folder.id),
    )
    assert moved.id == file.id
    assert moved.name == new_name
    assert moved.description == "moved by the SDK"
    assert moved.parent.id == folder.id
    assert moved.file_version.id == file.file_version.id
    assert int(moved.etag) > int(file.etag)
    with expect_api_error(412, "precondition_failed"):
        client.files.update_file_by_id(file.id, name="x.txt", if_match=file.etag)
    other = upload(client, b"other", unique_name("other", ".txt"), folder.id)
    with expect_api_error(409, "item_name_in_use"):
        client.files.update_file_by_id(file.id, name=other.name)
    with expect_api_error(400, "item_name_invalid"):
        client.files.update_file_by_id(file.id, name="a/b")
    assert read_all(client.downloads.download_file(file.id)) == data


def test_copy_file_and_folder(client):
    src = mkdir(client, unique_name("src", ""))
    data = random_bytes(50_000)
    file = upload(client, data, "inner.bin", src.id)
    dest = mkdir(client, unique_name("dst", ""))
    copy = client.files.copy_file(file.id, CopyFileParent(id=dest.id), name="copy.bin")
    assert copy.id != file.id
    assert copy.name == "copy.bin"
    assert copy.sha_1 == sha1_hex(data)
    assert read_all(client.downloads.download_file(copy.id)) == data
    with expect_api_error(409, "item_name_in_use"):
        client.files.copy_file(file.id, CopyFileParent(id=src.id))
    tree = client.folders.copy_folder(src.id, CopyFolderParent(id=dest.id))
    assert tree.name == src.name and tree.id != src.id
    items = client.folders.get_folder_items(tree.id)
    assert [e.name for e in items.entries] == ["inner.bin"]
    with expect_api_error(400, "cyclical_folder_structure"):
        client.folders.copy_folder(dest.id, CopyFolderParent(id=tree.id))
    with expect_api_error(400, "cyclical_folder_structure"):
        client.folders.update_folder_by_id(dest.id, parent=UpdateFolderByIdParent(id=tree.id))


def test_delete_folder_recursive_only_when_asked(client):
    top = mkdir(client, unique_name("top", ""))
    sub = mkdir(client, "sub", top.id)
    file = upload(client, b"deep", "deep.txt", sub.id)
    with expect_api_error(400, "folder_not_empty"):
        client.folders.delete_folder_by_id(top.id)
    client.folders.delete_folder_by_id(top.id, recursive=True)
    with expect_api_error(404, "not_found"):
        client.folders.get_folder_by_id(sub.id)
    with expect_api_error(404, "not_found"):
        client.files.get_file_by_id(file.id)
    renamed = client.folders.update_folder_by_id(
        mkdir(client, unique_name("empty", "")).id, name=unique_name("renamed", "")
    )
    client.folders.delete_folder_by_id(renamed.id)


def test_users_me_reports_space(client):
    fresh = client
    me = fresh.users.get_user_me()
    assert me.type == "user" and me.id
    before = me.space_used
    data = random_bytes(12_345)
    upload(fresh, data, unique_name("space", ".bin"))
    after = fresh.users.get_user_me()
    assert after.space_used == before + len(data)
    assert after.space_amount >= after.space_used
    assert after.max_upload_size > 0


def test_get_download_file_url_needs_no_token(client):
    data = random_bytes(10_000)
    file = upload(client, data, unique_name("link", ".bin"))
    url = client.downloads.get_download_file_url(file.id)
    plain = requests.get(url, timeout=30)
    assert plain.status_code == 200
    assert plain.content == data
    part = requests.get(url, headers={"Range": "bytes=10-19"}, timeout=30)
    assert part.status_code == 206 and part.content == data[10:20]
    if "X-Amz-Signature=" in url:
        # Part bytes in an object store (the replica test): a one-object
        # file is served by the store itself, through a presigned URL.
        assert os.environ.get("BOXUP_INTEROP_DEFAULT_URL"), "presigned only on S3 deployments"
        forged = requests.get(url.replace("X-Amz-Signature=", "X-Amz-Signature=0"), timeout=30)
        assert forged.status_code == 403
        return
    assert "/downloads/" in url
    forged = requests.get(url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB"), timeout=30)
    assert forged.status_code == 403
    assert forged.json()["code"] == "forbidden"


def test_marker_paging_sees_every_item_once(client):
    folder = mkdir(client, unique_name("paged", ""))
    names = sorted(f"item-{i:02}.txt" for i in range(7))
    for name in names:
        upload(client, b"x", name, folder.id)
    seen, marker = [], None
    while True:
        page = client.folders.get_folder_items(
            folder.id, usemarker=True, marker=marker, limit=3, fields=["name", "size", "item_status"]
        )
        for entry in page.entries:
            assert entry.item_status == "active"
            assert entry.size == 1
        seen.extend(e.name for e in page.entries)
        if not page.next_marker:
            break
        marker = page.next_marker
    assert seen == names
