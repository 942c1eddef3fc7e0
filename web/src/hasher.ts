// The page's side of the hashing worker: one worker per upload, ended when
// the upload ends, pauses or is cancelled (which also frees its memory).

import type { FromWorker, ToWorker } from './hash-worker';

export interface HashedPart {
  index: number;
  offset: number;
  size: number;
  /** Hex, as the parts listing and commit carry it. */
  sha1: string;
  /** Base64, as the `Digest` header carries it. */
  digest: string;
  bytes: ArrayBuffer | null;
}

export interface HashHandlers {
  part?: (part: HashedPart) => void;
  progress?: (hashed: number) => void;
}

/** The worker's script. Trusted Types guards the Worker constructor. */
const WORKER_URL = '/web/hash-worker.js';

interface TrustedTypesLike {
  createPolicy(name: string, rules: { createScriptURL(url: string): string }): {
    createScriptURL(url: string): unknown;
  };
}
let policy: { createScriptURL(url: string): unknown } | null = null;
function workerUrl(): string {
  const tt = (globalThis as { trustedTypes?: TrustedTypesLike }).trustedTypes;
  if (!tt) return WORKER_URL;
  policy ??= tt.createPolicy('boxup-worker', {
    createScriptURL(url: string) {
      if (url !== WORKER_URL) throw new Error(`refusing worker script ${url}`);
      return url;
    },
  });
  return policy.createScriptURL(WORKER_URL) as string;
}

export function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

export class Hasher {
  private worker: Worker;
  private settled = false;
  private reject: (reason: unknown) => void = () => {};
  readonly done: Promise<{ sha1: string; digest: string }>;

  constructor(file: Blob, partSize: number, keepBytes: boolean, credits: number, on: HashHandlers) {
    this.worker = new Worker(workerUrl(), { type: 'module', name: 'boxup-hash' });
    this.done = new Promise((resolve, reject) => {
      this.reject = reject;
      this.worker.onmessage = (ev: MessageEvent<FromWorker>) => {
        const m = ev.data;
        if (m.type === 'part') {
          on.part?.({ ...m, sha1: hex(m.sha1), digest: base64(m.sha1) });
        } else if (m.type === 'progress') {
          on.progress?.(m.hashed);
        } else if (m.type === 'done') {
          this.finish();
          resolve({ sha1: hex(m.sha1), digest: base64(m.sha1) });
        } else {
          this.finish();
          reject(new Error(`hashing failed: ${m.message}`));
        }
      };
      this.worker.onerror = (ev) => {
        this.finish();
        reject(new Error(`hashing failed: ${ev.message}`));
      };
    });
    this.send({ type: 'start', file, partSize, keepBytes, credits });
  }

  /** Lets the worker read `n` more parts ahead. */
  credit(n = 1): void {
    if (!this.settled) this.send({ type: 'credit', n });
  }

  /** Stops hashing now; `done` rejects with `reason` unless it has settled. */
  stop(reason: unknown): void {
    if (this.settled) return;
    this.finish();
    this.reject(reason);
  }

  private finish(): void {
    if (this.settled) return;
    this.settled = true;
    this.worker.terminate();
  }

  private send(msg: ToWorker): void {
    this.worker.postMessage(msg);
  }
}
