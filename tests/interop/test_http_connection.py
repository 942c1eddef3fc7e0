"""Keep-alive after a rejected part upload.

box-sdk-gen sends every call through one pooled `requests` session. After
the server rejects a part PUT it may answer before it has read the body.
It must then either read (drain) the rest of the body and keep the
connection usable, or say `Connection: close` so the client does not reuse
it. Otherwise the SDK's next call on that pooled connection can fail with
`RemoteDisconnected` (BoxSDKError "Connection aborted"), depending on timing.

The SDK-level symptom is a race. This test makes it deterministic by
reusing one `http.client` connection explicitly. The requests carry the
same headers box-sdk-gen sends for `upload_file_part`.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse

import pytest

from interop_helpers import ALICE_TOKEN, MiB, digest_header, random_bytes, unique_name

SIZE = 2 * MiB + 100


def _cases():
    body = random_bytes(MiB)
    return {
        "misaligned": (body, f"bytes 1-{MiB}/{SIZE}"),
        # One byte short of a part: large enough not to arrive with the headers.
        "short_non_last": (body[:-1], f"bytes 0-{MiB - 2}/{SIZE}"),
        "wrong_total": (body, f"bytes 0-{MiB - 1}/{SIZE + 1}"),
    }


CASES = _cases()


@pytest.mark.parametrize("case", sorted(CASES))
def test_connection_usable_or_closed_after_rejected_part(small_server, case):
    body, rng = CASES[case]
    url = urllib.parse.urlsplit(small_server.origin)
    auth = {"Authorization": f"Bearer {ALICE_TOKEN}"}
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request(
            "POST",
            "/api/2.0/files/upload_sessions",
            body=json.dumps({"folder_id": "0", "file_size": SIZE, "file_name": unique_name("ka")}),
            headers={**auth, "Content-Type": "application/json"},
        )
        created = conn.getresponse()
        session = json.loads(created.read())
        assert created.status == 201, session
        path = f"/api/2.0/files/upload_sessions/{session['id']}"

        send_error = None
        try:
            conn.request(
                "PUT",
                path,
                body=body,
                headers={
                    **auth,
                    "digest": digest_header(body),
                    "content-range": rng,
                    "Content-Type": "application/octet-stream",
                },
            )
        except OSError as e:  # the server answered and stopped reading mid-body
            send_error = e
        rejected = conn.getresponse()
        rejected.read()
        assert rejected.status == 416, f"expected 416 for {rng}, got {rejected.status}"
        says_close = (rejected.getheader("Connection") or "").lower() == "close"
        if says_close:
            return  # the client will open a new connection: fine
        assert send_error is None, (
            f"the server stopped reading the PUT body ({send_error!r}) "
            "without answering `Connection: close`"
        )
        try:
            conn.request("GET", path, headers=auth)
            follow_up = conn.getresponse()
            follow_up.read()
        except (OSError, http.client.HTTPException) as e:
            pytest.fail(
                f"after answering {rejected.status} to PUT ({rng}) the server closed the "
                f"keep-alive connection without `Connection: close`; the next request on "
                f"it failed with {e!r}"
            )
        assert follow_up.status == 200
    finally:
        conn.close()
