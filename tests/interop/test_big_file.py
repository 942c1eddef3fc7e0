"""`upload_big_file` of 50 MiB against Box's default part-size rule."""

from __future__ import annotations

import io
import re

from interop_helpers import MiB, expect_api_error, random_bytes, read_all, sha1_hex, unique_name

BIG_SIZE = 50 * MiB
BOX_PART_SIZE = 8 * MiB  # Box's part size for files up to ~80 GB (docs/protocol.md §4.4)


def test_default_part_size_rule_for_50_mib(big_client):
    """Box answers 8 MiB parts for a 50 MiB file: part_size 8388608, 7 parts."""
    session = big_client.chunked_uploads.create_file_upload_session(
        "0", BIG_SIZE, unique_name("rule")
    )
    try:
        assert session.part_size == BOX_PART_SIZE
        assert session.total_parts == 7
        assert session.num_parts_processed == 0
    finally:
        big_client.chunked_uploads.delete_file_upload_session_by_id(session.id)


def test_session_below_20_mb_is_rejected(big_client):
    """Upload sessions need at least 20 MB (docs/protocol.md §4.1): 400 file_size_too_small."""
    with expect_api_error(400, "file_size_too_small"):
        big_client.chunked_uploads.create_file_upload_session(
            "0", 10 * MiB, unique_name("too-small")
        )


def test_upload_big_file_50_mib_and_download(big_client, http_log):
    data = random_bytes(BIG_SIZE)
    name = unique_name("big", ".dat")

    file = big_client.chunked_uploads.upload_big_file(io.BytesIO(data), name, BIG_SIZE, "0")

    assert file.type == "file"
    assert file.name == name
    assert file.size == BIG_SIZE
    assert file.sha_1 == sha1_hex(data)
    assert file.parent is not None and file.parent.id == "0"
    assert re.fullmatch(r"[0-9]+", file.id), f"file id {file.id!r} is not a decimal string"

    # The SDK drove Box's protocol with the server's 8 MiB parts, sequentially.
    puts = http_log.matching("PUT", "/files/upload_sessions/")
    ranges = [e.request_headers.get("content-range") for e in puts]
    expected = [
        f"bytes {o}-{min(o + BOX_PART_SIZE, BIG_SIZE) - 1}/{BIG_SIZE}"
        for o in range(0, BIG_SIZE, BOX_PART_SIZE)
    ]
    assert ranges == expected
    assert all(e.status == 200 for e in puts)
    commits = http_log.matching("POST", "/commit")
    assert [e.status for e in commits] == [201]

    info = big_client.files.get_file_by_id(file.id)
    assert info.size == BIG_SIZE
    assert info.sha_1 == sha1_hex(data)
    assert info.name == name

    downloaded = read_all(big_client.downloads.download_file(file.id))
    assert len(downloaded) == BIG_SIZE
    assert downloaded == data

    big_client.files.delete_file_by_id(file.id)
    with expect_api_error(404):
        big_client.files.get_file_by_id(file.id)
