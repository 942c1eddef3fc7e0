// What an upload engine (chunked or simple) needs from the page, and the
// retry policy both share.

import pRetry from 'p-retry';
import { type Api, BoxError } from './api';

export interface TransferCtx {
  api: Api;
  /** The signed-in user's id: resume records are per user. */
  user: string;
  file: File;
  folderId: string;
  name: string;
  signal: AbortSignal;
  /** Part uploads in flight at once. */
  parallel: number;
  /** Bytes safely on the server, plus bytes of requests in flight. */
  progress(bytes: number): void;
  /** What is happening now, in words. */
  phase(text: string): void;
}

/**
 * Retries what failed for a reason that may pass (the network, 429, 5xx)
 * with exponential backoff, for up to about five minutes; anything else,
 * and an abort, fails at once.
 */
export async function retrying<T>(
  signal: AbortSignal,
  what: string,
  ctx: TransferCtx,
  run: () => Promise<T>,
  /** The phase to show again once a retry has gone through. */
  after = 'Uploading',
): Promise<T> {
  let retried = false;
  const value = await pRetry(run, {
    retries: 12,
    factor: 2,
    minTimeout: 500,
    maxTimeout: 30_000,
    signal,
    shouldRetry: ({ error }) => error instanceof BoxError && error.transient,
    onFailedAttempt: ({ error, retriesLeft }) => {
      if (error instanceof BoxError && error.transient && retriesLeft > 0) {
        retried = true;
        ctx.phase(`${what}: ${error.message}; trying again`);
      }
    },
  });
  // It went through after all: back to the usual progress line.
  if (retried) ctx.phase(after);
  return value;
}
