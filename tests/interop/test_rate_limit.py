"""`boxup serve --rate-limit`: the official SDK's `upload_big_file` completes
against a server with a tight per-user budget, by honouring the 429s'
`Retry-After` as it does against Box.

A server of its own (marked ``own_server``): 5 requests a second, bursts
of 5, 1 MiB parts, so that an 8 MiB upload (a session, 8 parts, a commit)
outruns the budget. The test checks that the server really answered 429s
during the upload (its request log, and the SDK's exchanges), so a budget
that was silently not enforced cannot pass it.
"""

from __future__ import annotations

import io
import re

import pytest
from box_sdk_gen.networking.retries import BoxRetryStrategy

from conftest import BoxupServer, make_client
from interop_helpers import ALICE_TOKEN, BOB_TOKEN, MiB, random_bytes, read_all, sha1_hex, unique_name

SIZE = 8 * MiB


@pytest.fixture
def limited_server():
    server = BoxupServer(
        "rate-limited",
        [
            "--rate-limit",
            "5",
            "--rate-limit-burst",
            "5",
            "--part-size",
            str(MiB),
            "--min-chunked-size",
            str(MiB),
        ],
    )
    yield server
    server.stop()


def retrying_client(origin: str, token: str):
    """A client that retries as the SDK does by default (429 honoured via
    Retry-After), with attempts to spare for a budget this tight."""
    return make_client(
        origin, token, BoxRetryStrategy(max_attempts=10, retry_base_interval=0.1)
    )


@pytest.mark.own_server
def test_upload_big_file_completes_under_a_tight_rate_limit(limited_server, http_log):
    client = retrying_client(limited_server.origin, ALICE_TOKEN)
    data = random_bytes(SIZE)
    name = unique_name("limited", ".dat")

    file = client.chunked_uploads.upload_big_file(io.BytesIO(data), name, SIZE, "0")

    assert file.size == SIZE
    assert file.sha_1 == sha1_hex(data)
    assert read_all(client.downloads.download_file(file.id)) == data

    # The budget was enforced: the SDK met 429s, each with Box's error
    # object and a Retry-After of whole seconds, and retried past them.
    limited = [e for e in http_log.exchanges if e.status == 429]
    assert limited, "the upload never went over the budget"
    for e in limited:
        assert int(e.response_headers["retry-after"]) >= 1
        assert '"rate_limit_exceeded"' in (e.body or "")
    log = limited_server.log_path.read_text(errors="replace")
    log = re.sub(r"\x1b\[[0-9;]*m", "", log)  # the log's colours
    assert "status=429" in log, limited_server.log_tail()

    # Another user's budget is their own: bob is not limited by alice's use.
    bob = make_client(limited_server.origin, BOB_TOKEN)
    assert bob.folders.get_folder_by_id("0").id == "0"
