// Hashes a file in a Web Worker, so that the page stays responsive while
// gigabytes go through SHA-1 (hash-wasm's WebAssembly SHA-1; SubtleCrypto
// cannot hash incrementally, and the whole-file digest must be).
//
// The file is read part by part, in order: each part's SHA-1 (for its
// `Digest` header) and the running whole-file SHA-1 (for the commit) come
// from one read. With `keepBytes`, each part's bytes are handed to the page
// for uploading; the page grants credits so that at most that many parts
// are held in memory at once.

import { createSHA1, type IHasher } from 'hash-wasm';

export type ToWorker =
  | { type: 'start'; file: Blob; partSize: number; keepBytes: boolean; credits: number }
  | { type: 'credit'; n: number };

export type FromWorker =
  | { type: 'part'; index: number; offset: number; size: number; sha1: Uint8Array; bytes: ArrayBuffer | null }
  | { type: 'progress'; hashed: number }
  | { type: 'done'; sha1: Uint8Array }
  | { type: 'error'; message: string };

const scope = self as unknown as DedicatedWorkerGlobalScope;
let credits = 0;
let wake: (() => void) | null = null;

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  scope.postMessage(msg, transfer);
}

async function credit(): Promise<void> {
  while (credits <= 0) await new Promise<void>((resolve) => (wake = resolve));
  credits--;
}

async function run(file: Blob, partSize: number, keepBytes: boolean): Promise<void> {
  const whole: IHasher = await createSHA1();
  const part: IHasher = await createSHA1();
  whole.init();
  let index = 0;
  for (let offset = 0; offset < file.size || (offset === 0 && index === 0); offset += partSize) {
    if (keepBytes) await credit();
    const bytes = await file.slice(offset, offset + partSize).arrayBuffer();
    const view = new Uint8Array(bytes);
    whole.update(view);
    part.init();
    part.update(view);
    const digest = part.digest('binary');
    post(
      { type: 'part', index, offset, size: bytes.byteLength, sha1: digest, bytes: keepBytes ? bytes : null },
      keepBytes ? [bytes] : [],
    );
    post({ type: 'progress', hashed: offset + bytes.byteLength });
    index++;
    if (file.size === 0) break;
  }
  post({ type: 'done', sha1: whole.digest('binary') });
}

scope.onmessage = (ev: MessageEvent<ToWorker>) => {
  const msg = ev.data;
  if (msg.type === 'credit') {
    credits += msg.n;
    wake?.();
    wake = null;
    return;
  }
  credits = msg.credits;
  run(msg.file, msg.partSize, msg.keepBytes).catch((e: unknown) =>
    post({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
  );
};
