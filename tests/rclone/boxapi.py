#!/usr/bin/env python3
"""Observes and seeds boxup's state for the rclone checks, without rclone.

Every rclone check asserts on what the server holds after rclone's command,
and that observation must not share rclone's bugs or boxup's rclone-facing
quirks: this client uses only routes the official SDK suite already covers
(folder items with offset paging, folder create, simple upload), so a check
fails on what rclone did, not on how it was observed.

    boxapi.py stat PATH           -> JSON of the item at PATH, exit 4 if none
    boxapi.py ls PATH             -> JSON list of the folder's entries
    boxapi.py mkdir PATH          -> creates the folder (parent must exist)
    boxapi.py put LOCAL PATH      -> uploads LOCAL as PATH (simple upload)

Environment: BOXAPI_TOKEN (bearer token), BOXAPI_CA (CA file to trust).
The hosts are Box's own, which the harness maps to the local server.
"""

import json
import os
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid

API = "https://api.box.com/2.0"
UPLOAD = "https://upload.box.com/api/2.0"
TLS = ssl.create_default_context(cafile=os.environ["BOXAPI_CA"])
TOKEN = os.environ["BOXAPI_TOKEN"]
# Listing entries are mini objects unless fields are asked for, as at Box.
FIELDS = "type,id,name,size,sha1,etag,sequence_id"


class Missing(Exception):
    """No item at the path."""


def call(method, url, body=None, headers=None):
    req = urllib.request.Request(url, data=body, method=method)
    req.add_header("Authorization", f"Bearer {TOKEN}")
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    try:
        with urllib.request.urlopen(req, context=TLS, timeout=60) as res:
            return json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace")
        raise SystemExit(f"boxapi: {method} {url} -> {e.code} {detail}") from None


def entries(folder_id):
    """Every entry of a folder, walking offset pages."""
    out, offset = [], 0
    while True:
        query = urllib.parse.urlencode({"limit": 1000, "offset": offset, "fields": FIELDS})
        page = call("GET", f"{API}/folders/{folder_id}/items?{query}")
        out.extend(page["entries"])
        offset += len(page["entries"])
        if not page["entries"] or offset >= page["total_count"]:
            return out


def summary(item):
    keep = ("type", "id", "name", "size", "sha1", "etag", "sequence_id")
    return {key: item.get(key) for key in keep}


def resolve(path):
    """The item at a slash-separated path from the root ("" is the root)."""
    item = {"type": "folder", "id": "0", "name": ""}
    for name in [p for p in path.split("/") if p]:
        if item["type"] != "folder":
            raise Missing(path)
        found = [e for e in entries(item["id"]) if e["name"] == name]
        if not found:
            raise Missing(path)
        item = found[0]
    return item


def split(path):
    parent, _, name = path.strip("/").rpartition("/")
    return resolve(parent), name


def main(argv):
    cmd, args = argv[1], argv[2:]
    try:
        if cmd == "stat":
            item = resolve(args[0])
            if item["type"] == "file":
                item = call("GET", f"{API}/files/{item['id']}")
            print(json.dumps(summary(item)))
        elif cmd == "ls":
            folder = resolve(args[0])
            print(json.dumps([summary(e) for e in entries(folder["id"])]))
        elif cmd == "mkdir":
            parent, name = split(args[0])
            body = json.dumps({"name": name, "parent": {"id": parent["id"]}})
            print(call("POST", f"{API}/folders", body.encode())["id"])
        elif cmd == "put":
            parent, name = split(args[1])
            with open(args[0], "rb") as f:
                content = f.read()
            attributes = json.dumps({"name": name, "parent": {"id": parent["id"]}})
            boundary = uuid.uuid4().hex
            body = (
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"attributes\"\r\n\r\n"
                f"{attributes}\r\n--{boundary}\r\nContent-Disposition: form-data; "
                f"name=\"file\"; filename=\"{name}\"\r\n"
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
            kind = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
            result = call("POST", f"{UPLOAD}/files/content", body, kind)
            print(result["entries"][0]["id"])
        else:
            raise SystemExit(f"boxapi: unknown command {cmd}")
    except Missing as e:
        print(f"boxapi: nothing at {e}", file=sys.stderr)
        return 4
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
