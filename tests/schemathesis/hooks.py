"""Generation hooks for the schemathesis run (loaded through
SCHEMATHESIS_HOOKS by run.sh).

Random folder ids almost never name a folder that exists, so without help
the operations that create things (a folder, an upload session, a
preflight) answer 404 to nearly every generated request, and the stateful
phase, which chains a new item's id into the operations on it, has nothing
to chain. Here half of those requests name the root folder ("0"), which
every user has; the other half keep the generated id, so refusals are
still fuzzed.
"""

from __future__ import annotations

import schemathesis
from hypothesis import strategies as st

# (method, path) -> where the parent folder's id is in the JSON body.
PARENT_IN_BODY = {
    ("POST", "/2.0/folders"): ("parent", "id"),
    ("OPTIONS", "/2.0/files/content"): ("parent", "id"),
    ("POST", "/2.0/files/upload_sessions"): ("folder_id",),
}


def _with_root(body: dict, where: tuple[str, ...]) -> dict:
    body = dict(body)
    if len(where) == 1:
        body[where[0]] = "0"
    elif isinstance(body.get(where[0]), dict):
        body[where[0]] = {**body[where[0]], where[1]: "0"}
    return body


@schemathesis.hook
def flatmap_body(ctx, body):
    op = getattr(ctx, "operation", None)
    where = op and PARENT_IN_BODY.get((op.method.upper(), op.path))
    if not where or not isinstance(body, dict):
        return st.just(body)
    return st.sampled_from([body, _with_root(body, where)])
