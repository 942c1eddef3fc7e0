"""The official SDK's OAuth 2.0 authentications against boxup, unchanged.

`BoxCCGAuth` (client credentials grant) and `BoxJWTAuth` (JWT bearer grant,
an RS256 assertion signed with the app's private key) obtain access tokens
from boxup's `/oauth2/token` for an app added with `boxup admin app add`,
and upload big files with them. When the server stops accepting a token
mid-upload (it expires, or the operator revokes it), the SDK answers the
401 by asking for a new token and carries on: the upload completes and the
server holds the right bytes.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import uuid
from pathlib import Path

import pytest
import requests
from box_sdk_gen import (
    BaseUrls,
    BoxCCGAuth,
    BoxClient,
    BoxJWTAuth,
    CCGConfig,
    JWTConfig,
    NetworkSession,
)
from box_sdk_gen.box.errors import BoxAPIError
from box_sdk_gen.internal.utils import JwtAlgorithm
from box_sdk_gen.networking.box_network_client import BoxNetworkClient
from box_sdk_gen.networking.retries import BoxRetryStrategy
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from conftest import HTTP_LOG, boxup_admin
from interop_helpers import SMALL_MIN_CHUNKED, SMALL_PART_SIZE

PASSPHRASE = "interop-passphrase"


def oauth_client(origin: str, auth) -> BoxClient:
    """A client as a Box user configures one, with the SDK's own retries
    (a 401 must get a second attempt, after a new token)."""
    session = requests.Session()
    session.hooks["response"].append(HTTP_LOG.hook)
    network_session = NetworkSession(
        base_urls=BaseUrls(
            base_url=origin, upload_url=f"{origin}/api", oauth_2_url=f"{origin}/api/oauth2"
        ),
        retry_strategy=BoxRetryStrategy(max_attempts=3, retry_base_interval=0.01),
        network_client=BoxNetworkClient(requests_session=session),
    )
    return BoxClient(auth=auth, network_session=network_session)


def add_app(server, login: str, public_key: Path | None = None) -> dict:
    """A user and an app acting as it; the app's `key=value` lines."""
    boxup_admin(server, "user", "add", login)
    args = ["app", "add", f"app for {login}", "--user", login]
    if public_key is not None:
        args += ["--public-key", str(public_key)]
    out = boxup_admin(server, *args)
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def encrypted_private_pem(key) -> str:
    """The private key as the SDK's JWTConfig takes it: PKCS#8 PEM,
    encrypted with PASSPHRASE."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSPHRASE.encode()),
    ).decode()


def write_public_pem(key, path: Path) -> Path:
    """The key's public half as `boxup admin app add --public-key` reads it."""
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


def sha_header(data: bytes) -> str:
    return "sha=" + base64.b64encode(hashlib.sha1(data).digest()).decode()


def token_requests() -> int:
    return len(HTTP_LOG.matching("POST", "/oauth2/token"))


def token_ids(server, login: str) -> list[str]:
    listed = boxup_admin(server, "token", "list", login).splitlines()[1:]
    return [line.split("\t")[0] for line in listed]


def revoke_all_tokens(server, login: str) -> int:
    ids = token_ids(server, login)
    for token_id in ids:
        boxup_admin(server, "token", "revoke", token_id)
    return len(ids)


def expire_all_tokens(server, login: str) -> int:
    """Ends every token's lifetime now: what a token's own expiry does
    when its hour is up, without a test waiting an hour (or a second)."""
    ids = token_ids(server, login)
    for token_id in ids:
        boxup_admin(server, "token", "expire", token_id)
    return len(ids)


def upload_with_a_renewal(client: BoxClient, server, login: str, name: str, end_tokens) -> None:
    """Uploads a file part by part; after the first part the server stops
    accepting the client's token (`end_tokens` expires or revokes it), and
    the SDK must get a new one on its own."""
    data = os.urandom(SMALL_MIN_CHUNKED + 2 * SMALL_PART_SIZE + 17)
    cu = client.chunked_uploads
    session = cu.create_file_upload_session(folder_id="0", file_size=len(data), file_name=name)
    part_size = session.part_size
    parts = []
    for index, offset in enumerate(range(0, len(data), part_size)):
        if index == 1:
            assert end_tokens(server, login) >= 1
            before = token_requests()
        chunk = data[offset : offset + part_size]
        uploaded = cu.upload_file_part(
            session.id,
            io.BytesIO(chunk),
            sha_header(chunk),
            f"bytes {offset}-{offset + len(chunk) - 1}/{len(data)}",
        )
        parts.append(uploaded.part)
    assert token_requests() == before + 1, "one new token after the 401"
    refused = [e for e in HTTP_LOG.matching("PUT", session.id) if e.status == 401]
    assert len(refused) == 1, "the part sent with the ended token was refused once"
    assert "invalid_token" in refused[0].response_headers.get("www-authenticate", "")
    files = cu.create_file_upload_session_commit(session.id, parts, sha_header(data))
    committed = files.entries[0]
    assert committed.sha_1 == hashlib.sha1(data).hexdigest()
    assert committed.size == len(data)


def test_ccg_uploads_a_big_file_and_renews_its_expired_token(small_server):
    login = f"svc-ccg-{uuid.uuid4().hex[:8]}"
    app = add_app(small_server, login)
    auth = BoxCCGAuth(
        CCGConfig(client_id=app["client_id"], client_secret=app["client_secret"], enterprise_id="1")
    )
    client = oauth_client(small_server.origin, auth)
    me = client.users.get_user_me()
    assert me.login == login and me.id == app["user_id"]
    upload_with_a_renewal(client, small_server, login, "ccg.bin", expire_all_tokens)
    # The token that expired was kept (listed), not deleted: the new one
    # is beside it.
    assert len(token_ids(small_server, login)) == 2

    # The SDK's upload_big_file with the same authentication.
    data = os.urandom(SMALL_MIN_CHUNKED + 3 * SMALL_PART_SIZE)
    f = client.chunked_uploads.upload_big_file(io.BytesIO(data), "ccg-big.bin", len(data), "0")
    assert f.sha_1 == hashlib.sha1(data).hexdigest()


def test_ccg_with_a_wrong_secret_is_refused(small_server):
    app = add_app(small_server, f"svc-wrong-{uuid.uuid4().hex[:8]}")
    auth = BoxCCGAuth(CCGConfig(client_id=app["client_id"], client_secret="x" * 32, enterprise_id="1"))
    with pytest.raises(BoxAPIError) as raised:
        oauth_client(small_server.origin, auth).users.get_user_me()
    assert raised.value.response_info.status_code == 400
    assert raised.value.response_info.body["error"] == "invalid_client"


def test_jwt_uploads_a_big_file_and_renews_its_revoked_token(small_server, tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = encrypted_private_pem(key)
    login = f"svc-jwt-{uuid.uuid4().hex[:8]}"
    app = add_app(small_server, login, write_public_pem(key, tmp_path / "public.pem"))
    config = JWTConfig(
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        jwt_key_id=app["public_key_id"],
        private_key=private_pem,
        private_key_passphrase=PASSPHRASE,
        user_id=app["user_id"],
    )
    client = oauth_client(small_server.origin, BoxJWTAuth(config=config))
    assert client.users.get_user_me().login == login
    upload_with_a_renewal(client, small_server, login, "jwt.bin", revoke_all_tokens)

    # Another key cannot sign for this app.
    other = encrypted_private_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    forged = JWTConfig(
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        jwt_key_id=app["public_key_id"],
        private_key=other,
        private_key_passphrase=PASSPHRASE,
        user_id=app["user_id"],
    )
    with pytest.raises(BoxAPIError) as raised:
        oauth_client(small_server.origin, BoxJWTAuth(config=forged)).users.get_user_me()
    assert raised.value.response_info.status_code == 400
    assert raised.value.response_info.body["error"] == "invalid_grant"


def test_jwt_with_an_ec_p256_key(small_server, tmp_path):
    """ES256 assertions, from a P-256 key, work as RS256 ones do."""
    key = ec.generate_private_key(ec.SECP256R1())
    private_pem = encrypted_private_pem(key)
    login = f"svc-es256-{uuid.uuid4().hex[:8]}"
    app = add_app(small_server, login, write_public_pem(key, tmp_path / "public.pem"))
    config = JWTConfig(
        client_id=app["client_id"],
        client_secret=app["client_secret"],
        jwt_key_id=app["public_key_id"],
        private_key=private_pem,
        private_key_passphrase=PASSPHRASE,
        enterprise_id="1",
        algorithm=JwtAlgorithm.ES256,
    )
    client = oauth_client(small_server.origin, BoxJWTAuth(config=config))
    assert client.users.get_user_me().login == login
    data = os.urandom(SMALL_MIN_CHUNKED + SMALL_PART_SIZE + 5)
    f = client.chunked_uploads.upload_big_file(io.BytesIO(data), "es256.bin", len(data), "0")
    assert f.sha_1 == hashlib.sha1(data).hexdigest()
