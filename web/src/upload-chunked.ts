// A file through an upload session (docs/protocol.md §4): create the
// session (or find the unfinished one this file started), hash the file
// part by part in a worker, send the parts the server does not already
// hold, a few at a time, then commit with the whole file's SHA-1.
//
// Resume: a session this browser started for the same file (same user,
// folder, name, size and modification time) is continued. Its parts are
// listed and the file is hashed again; a stored part whose SHA-1 matches
// the local bytes is kept, so after a reload only missing parts are sent.

import { type Api, BoxError, type Item, type Part, type Session } from './api';
import { boxTime } from './format';
import { type HashedPart, Hasher } from './hasher';
import * as resume from './resume';
import { retrying, type TransferCtx } from './transfer';
import { send } from './xhr';

export async function uploadChunked(ctx: TransferCtx): Promise<Item> {
  const { api, file, signal } = ctx;
  const key = resume.resumeKey(ctx.user, ctx.folderId, file, ctx.name);
  const found = await reopen(ctx, key);
  let session: Session;
  let stored: Map<number, Part>;
  let fileId: string | null;
  if (found) {
    ({ session, stored, fileId } = found);
    ctx.phase(`Resuming: ${stored.size} of ${session.total_parts} parts are on the server`);
  } else {
    ctx.phase('Starting');
    ({ session, fileId } = await create(ctx));
    stored = new Map();
    resume.save({
      key,
      user: ctx.user,
      sessionId: session.id,
      folderId: ctx.folderId,
      name: ctx.name,
      size: file.size,
      lastModified: file.lastModified,
      partSize: session.part_size,
      totalParts: session.total_parts,
      expiresAt: session.session_expires_at,
      fileId,
    });
  }

  signal.throwIfAborted();
  const parts: Part[] = new Array<Part>(session.total_parts);
  const loaded = new Map<number, number>();
  let safe = 0;
  const report = () => ctx.progress(safe + [...loaded.values()].reduce((a, b) => a + b, 0));
  const local = new AbortController();
  const onAbort = () => local.abort(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const sends: Promise<void>[] = [];
  let failed: unknown = null;

  const settle = (p: HashedPart, part: Part) => {
    parts[p.index] = part;
    loaded.delete(p.index);
    safe += p.size;
    report();
    hasher.credit();
  };
  const onPart = (p: HashedPart) => {
    const have = stored.get(p.offset);
    if (have && have.size === p.size && have.sha1?.toLowerCase() === p.sha1) {
      settle(p, have);
      return;
    }
    if (have) {
      // Parts are immutable: the file changed since this session began.
      failed ??= new BoxError(409, 'file_changed', 'The file changed since this upload began: cancel it and upload again');
      local.abort(failed);
      return;
    }
    if (sends.length === 0) ctx.phase('Uploading');
    const sending = sendPart(ctx, api, session, p, local.signal, (n) => {
      loaded.set(p.index, n);
      report();
    }).then(
      (part) => settle(p, part),
      (e: unknown) => {
        failed ??= e;
        local.abort(e);
      },
    );
    sends.push(sending);
  };
  const hasher = new Hasher(file, session.part_size, true, ctx.parallel, { part: onPart });
  local.signal.addEventListener('abort', () => hasher.stop(local.signal.reason), { once: true });
  try {
    const whole = await hasher.done;
    await Promise.all(sends);
    if (failed) throw failed;
    ctx.phase('Finishing');
    const item = await commit(ctx, api, session, parts, whole.digest, local.signal);
    resume.forget(key);
    return item;
  } catch (e) {
    throw failed ?? e;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/** The unfinished session this file started here, if it is still open. */
async function reopen(ctx: TransferCtx, key: string) {
  const record = resume.find(key);
  if (!record) return null;
  ctx.phase('Checking the unfinished upload');
  try {
    const session = await ctx.api.get<Session>(`files/upload_sessions/${record.sessionId}`);
    const stored = new Map<number, Part>();
    for (let offset = 0; ; ) {
      const page = await ctx.api.get<{ entries: Part[] }>(
        `files/upload_sessions/${record.sessionId}/parts?offset=${offset}&limit=1000`,
      );
      for (const p of page.entries) stored.set(p.offset, p);
      if (page.entries.length < 1000) break;
      offset += page.entries.length;
    }
    return { session, stored, fileId: record.fileId };
  } catch (e) {
    // Expired, aborted or committed elsewhere: start afresh.
    if (e instanceof BoxError && (e.status === 404 || e.status === 410)) {
      resume.forget(key);
      return null;
    }
    throw e;
  }
}

/** A session for a new file, or for a new version when the name is taken. */
async function create(ctx: TransferCtx): Promise<{ session: Session; fileId: string | null }> {
  const { api, file } = ctx;
  try {
    const session = await api.post<Session>('files/upload_sessions', {
      folder_id: ctx.folderId,
      file_size: file.size,
      file_name: ctx.name,
    });
    return { session, fileId: null };
  } catch (e) {
    const existing = e instanceof BoxError && e.status === 409 ? e.conflict : null;
    if (!existing || existing.type !== 'file') throw e;
    const session = await api.post<Session>(`files/${existing.id}/upload_sessions`, {
      file_size: file.size,
      file_name: ctx.name,
    });
    return { session, fileId: existing.id };
  }
}

function sendPart(
  ctx: TransferCtx,
  api: Api,
  session: Session,
  p: HashedPart,
  signal: AbortSignal,
  onProgress: (n: number) => void,
): Promise<Part> {
  const body = p.bytes;
  if (!body) throw new Error('the hasher kept no bytes for this part');
  const last = p.offset + p.size - 1;
  return retrying(signal, `Part ${p.index + 1}`, ctx, async () => {
    onProgress(0);
    const res = await send({
      method: 'PUT',
      url: `/2.0/files/upload_sessions/${session.id}`,
      headers: {
        Authorization: api.bearer,
        'Content-Type': 'application/octet-stream',
        'Content-Range': `bytes ${p.offset}-${last}/${ctx.file.size}`,
        Digest: `sha=${p.digest}`,
      },
      body,
      signal,
      onProgress,
    });
    return (res.json as { part: Part }).part;
  });
}

async function commit(
  ctx: TransferCtx,
  api: Api,
  session: Session,
  parts: Part[],
  digest: string,
  signal: AbortSignal,
): Promise<Item> {
  const body = {
    parts: parts.map(({ part_id, offset, size, sha1 }) => ({ part_id, offset, size, sha1 })),
    attributes: { content_modified_at: boxTime(ctx.file.lastModified) },
  };
  for (;;) {
    const res = await retrying(
      signal,
      'Commit',
      ctx,
      () =>
        api.request<{ entries: Item[] }>('POST', `files/upload_sessions/${session.id}/commit`, body, {
          Digest: `sha=${digest}`,
        }),
      'Finishing',
    );
    if (res.status !== 202) return res.data.entries[0];
    // Box may still be processing parts: it says when to ask again.
    const wait = Number(res.headers.get('retry-after') ?? '1');
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(resolve, Math.min(Math.max(wait, 1), 60) * 1000);
      signal.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
    });
  }
}
