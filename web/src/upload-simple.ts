// A small file in one request (docs/protocol.md §5.5): multipart
// `attributes` then the bytes, with the file's SHA-1 in `Content-MD5` (Box's
// name for it), so that the server refuses bytes damaged on the way. When
// the name is taken, the file becomes a new version of the existing one,
// as Box's own uploader does by default.

import { BoxError, type Item } from './api';
import { boxTime } from './format';
import { Hasher } from './hasher';
import { retrying, type TransferCtx } from './transfer';
import { send } from './xhr';

const HASH_READ = 8 * 1024 * 1024;

export async function uploadSimple(ctx: TransferCtx): Promise<Item> {
  const { api, file, signal } = ctx;
  ctx.phase('Checking');
  const hasher = new Hasher(file, HASH_READ, false, 0, {});
  const stop = () => hasher.stop(signal.reason);
  signal.addEventListener('abort', stop, { once: true });
  const { sha1 } = await hasher.done.finally(() => signal.removeEventListener('abort', stop));
  signal.throwIfAborted();
  ctx.phase('Uploading');
  const post = (url: string, attributes: Record<string, unknown>) =>
    retrying(signal, 'Upload', ctx, async () => {
      ctx.progress(0);
      const form = new FormData();
      form.append('attributes', JSON.stringify(attributes));
      form.append('file', file, 'file');
      const res = await send({
        method: 'POST',
        url,
        headers: { Authorization: api.bearer, 'Content-MD5': sha1 },
        body: form,
        signal,
        // The multipart framing makes the body a little larger than the file.
        onProgress: (n) => ctx.progress(Math.min(n, file.size)),
      });
      return (res.json as { entries: Item[] }).entries[0];
    });
  const modified = boxTime(file.lastModified);
  try {
    return await post('/2.0/files/content', {
      name: ctx.name,
      parent: { id: ctx.folderId },
      content_modified_at: modified,
    });
  } catch (e) {
    const existing = e instanceof BoxError && e.status === 409 ? e.conflict : null;
    if (!existing || existing.type !== 'file') throw e;
    return post(`/2.0/files/${existing.id}/content`, { name: ctx.name, content_modified_at: modified });
  }
}
